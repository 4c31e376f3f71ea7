namespace DiffPriv.Accounting;

/// <summary>Which pairs of datasets count as neighbours in the privacy guarantee.</summary>
public enum NeighboringRelation
{
    /// <summary>One dataset has one record more than the other (add or remove one). DP-SGD with Poisson sampling uses this.</summary>
    AddOrRemoveOne,

    /// <summary>The datasets have the same size and differ in one record (replace one).</summary>
    ReplaceOne,

    /// <summary>
    /// The datasets have the same size and one record of one is replaced by a special record (for example the zero
    /// record, which contributes nothing) in the other: dp_accounting's <c>REPLACE_SPECIAL</c> (Kairouz et al. 2021,
    /// "Practical and Private (Deep) Learning without Sampling or Shuffling", Definition 1.1). Tree aggregation
    /// (DP-FTRL) is analysed under this relation.
    /// </summary>
    ReplaceSpecial,
}

namespace DiffPriv.Accounting;

/// <summary>Which pairs of datasets count as neighbours in the privacy guarantee.</summary>
public enum NeighboringRelation
{
    /// <summary>One dataset has one record more than the other (add or remove one). DP-SGD with Poisson sampling uses this.</summary>
    AddOrRemoveOne,

    /// <summary>The datasets have the same size and differ in one record (replace one).</summary>
    ReplaceOne,
}

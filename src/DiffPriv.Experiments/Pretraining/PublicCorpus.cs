namespace DiffPriv.Experiments.Pretraining;

/// <summary>A public English text corpus for pretraining (see <see cref="PublicTextPretraining"/>); each is fetched into the data cache.</summary>
public enum PublicCorpus
{
    /// <summary>The Brown corpus, all 15 genres (1961 American English), one sentence per line.</summary>
    Brown,

    /// <summary>The State of the Union addresses 1790–2021 (public domain), one address per line.</summary>
    StateOfTheUnion,

    /// <summary>Jane Austen's six completed novels (public domain), line by line as Project Gutenberg has them.</summary>
    JaneAusten,
}

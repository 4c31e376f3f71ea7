namespace DiffPriv.Experiments.UserLevel;

/// <summary>How the rating model of the user-level experiment is trained.</summary>
public enum RatingTrainingMode
{
    /// <summary>Ordinary training (Adam on batches of users), no privacy: the reference.</summary>
    NonPrivate,

    /// <summary>User-level DP-SGD: users are sampled, each sampled user's ratings make one clipped record; ε per user.</summary>
    UserLevel,

    /// <summary>Example-level DP-SGD: ratings are sampled and clipped one by one; ε per rating, group bounds per user.</summary>
    ExampleLevel,
}

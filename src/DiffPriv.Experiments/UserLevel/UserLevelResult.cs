namespace DiffPriv.Experiments.UserLevel;

/// <summary>What <see cref="UserLevelExperiment.Run(UserLevelSettings, IProgress{ProgressUpdate}?)"/> measured.</summary>
/// <param name="Settings">The settings it ran with.</param>
/// <param name="Users">U, users.</param>
/// <param name="Movies">M, movies in the catalogue.</param>
/// <param name="TrainRatings">Training ratings.</param>
/// <param name="TestRatings">Held-out ratings.</param>
/// <param name="MedianTrainRatings">The median user's training ratings.</param>
/// <param name="MaxTrainRatings">The largest user's training ratings.</param>
/// <param name="OwnRatingsRmse">Test RMSE when every user predicts from their own training ratings alone (their ridge-shrunk
/// mean, the movie model at zero): what needs no shared model and costs no privacy.</param>
/// <param name="Outcomes">One per setting, in the order run.</param>
/// <param name="WallSeconds">The whole run.</param>
/// <param name="RunDir">The run folder (report.md, results.json, command.txt).</param>
public sealed record UserLevelResult(
    UserLevelSettings Settings,
    int Users,
    int Movies,
    int TrainRatings,
    int TestRatings,
    int MedianTrainRatings,
    int MaxTrainRatings,
    double OwnRatingsRmse,
    IReadOnlyList<UserLevelOutcome> Outcomes,
    double WallSeconds,
    string RunDir);

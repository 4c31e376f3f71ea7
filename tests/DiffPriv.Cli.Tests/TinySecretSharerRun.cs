namespace DiffPriv.Cli.Tests;

/// <summary>
/// One tiny Secret Sharer run with both models (a few seconds), shared by the tests that read its run folder or start
/// from its saved weights. It runs on first use only, so tests that never ask for it (input checks) do not need the data.
/// </summary>
public sealed class TinySecretSharerRun : IDisposable
{
    /// <summary>The tiny settings: a subset, one epoch, few references, small LSTM (the same for runs that reuse its weights).</summary>
    public static readonly string[] TinySettings =
    [
        "--quick", "--train-sequences", "300", "--test-sequences", "60", "--epochs", "1", "--references", "64",
        "--canaries-per-repetition", "1", "--hidden-size", "16",
    ];

    private readonly Lazy<(int Code, string Stdout, string Stderr)> _run;

    public TinySecretSharerRun()
    {
        Dir = Directory.CreateTempSubdirectory("diffpriv-experiment-run-").FullName;
        RunDir = Path.Combine(Dir, "run");
        _run = new(() => CliRunner.Run(
            ["experiment", "secret-sharer", .. TinySettings, "--epsilon", "4", "--seed", "5", "--json", "--out", RunDir]));
    }

    /// <summary>A temporary folder for this class's tests.</summary>
    public string Dir { get; }

    /// <summary>The run folder.</summary>
    public string RunDir { get; }

    /// <summary>The run's exit code and output (running it the first time).</summary>
    public (int Code, string Stdout, string Stderr) Result => _run.Value;

    /// <summary>A file of the run folder, after the run succeeded.</summary>
    public string File(string name)
    {
        Assert.True(Result.Code == 0, Result.Stderr);
        return Path.Combine(RunDir, name);
    }

    public void Dispose() => Directory.Delete(Dir, recursive: true);
}

using System.Diagnostics;
using System.Text.Json.Nodes;
using DiffPriv.Models;

namespace DiffPriv.Cli.Tests;

/// <summary>
/// A fact that runs <c>mpiexec</c>: it needs MPICH and MNIST. Without MPICH it is skipped with the reason, unless
/// <c>DIFFPRIV_REQUIRE_MPI=1</c> (CI sets it after <c>scripts/bootstrap.sh --mpi</c>), where a missing MPICH fails.
/// </summary>
public sealed class MpiFactAttribute : FactAttribute
{
    internal static readonly Lazy<string?> Launcher = new(() =>
        new[] { "/usr/bin/mpiexec.mpich", "/usr/local/bin/mpiexec.mpich" }.FirstOrDefault(File.Exists));

    public MpiFactAttribute()
    {
        if (MnistFactAttribute.Unavailable.Value is { } reason)
        {
            Skip = $"MNIST cannot be fetched on this machine ({reason}).";
        }
        else if (Launcher.Value is null && Environment.GetEnvironmentVariable("DIFFPRIV_REQUIRE_MPI") != "1")
        {
            Skip = "MPICH is not installed (mpiexec.mpich): run scripts/bootstrap.sh --mpi to run the data-parallel tests.";
        }
    }
}

/// <summary>
/// <c>mpiexec -n 2 diffpriv train mnist</c> against the single process: the same batches, noise and ε, the same model up to
/// the order of summation; a killed rank ends the job.
/// </summary>
public sealed class DistributedTrainTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("diffpriv-mpi-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Cli => Path.Combine(AppContext.BaseDirectory, "DiffPriv.Cli.dll");

    private static string Mpiexec => MpiFactAttribute.Launcher.Value
        ?? throw new InvalidOperationException("DIFFPRIV_REQUIRE_MPI=1 but MPICH's mpiexec.mpich is missing: run scripts/bootstrap.sh --mpi.");

    private static Process Start(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        // The launcher's variables must not leak in from a test host that was itself started by mpiexec.
        foreach (var name in new[] { "PMI_RANK", "PMI_SIZE", "PMI_FD", "PMI_PORT" })
        {
            info.Environment.Remove(name);
        }

        return Process.Start(info)!;
    }

    private static (int Code, string Stdout, string Stderr) Run(TimeSpan timeout, string file, params string[] args)
    {
        using var process = Start(file, args);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{file} {string.Join(' ', args)} did not finish within {timeout}");
        }

        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    private static JsonNode LastJson(string stdout) => JsonNode.Parse(stdout.TrimEnd().Split('\n')[^1])!;

    /// <summary>
    /// Point 3 of the data-parallel design: a seeded run on 2 ranks draws the same Poisson batches (rank 0 samples with the
    /// seeded generator and splits them) and the same noise (drawn once, on rank 0, from the same generator state), so ε,
    /// the steps and the examples seen are equal and the parameters differ only by the order of the float32 additions
    /// (rank sums added on rank 0 instead of one sum): after the 8 steps of --smoke, at most 1e-5 per parameter.
    /// </summary>
    [MpiFact]
    public void TwoRanksTrainTheSingleProcessModelUpToSummationOrder()
    {
        var single = Path.Combine(_dir, "single");
        var parallel = Path.Combine(_dir, "parallel");
        var one = Run(TimeSpan.FromMinutes(3), "dotnet", Cli, "train", "mnist", "--model", "cnn", "--smoke", "--seed", "7", "--json", "--out", single);
        Assert.True(one.Code == 0, one.Stderr);
        var two = Run(TimeSpan.FromMinutes(3), Mpiexec, "-n", "2", "dotnet", Cli, "train", "mnist", "--model", "cnn", "--smoke", "--seed", "7", "--json", "--out", parallel);
        Assert.True(two.Code == 0, two.Stdout + two.Stderr);

        // One JSON line from the job (rank 0's), not one per rank.
        Assert.Single(two.Stdout.Split('\n'), l => l.StartsWith('{'));
        var a = LastJson(one.Stdout);
        var b = LastJson(two.Stdout);
        Assert.Equal(1, a["world_size"]!.GetValue<int>());
        Assert.Equal(2, b["world_size"]!.GetValue<int>());
        Assert.Equal(a["epsilon"]!.GetValue<double>(), b["epsilon"]!.GetValue<double>());
        Assert.Equal(a["noise_multiplier"]!.GetValue<double>(), b["noise_multiplier"]!.GetValue<double>());
        Assert.Equal(a["steps"]!.GetValue<long>(), b["steps"]!.GetValue<long>());
        Assert.InRange(Math.Abs(a["test_accuracy"]!.GetValue<double>() - b["test_accuracy"]!.GetValue<double>()), 0, 0.005);

        // The same examples in all: the ranks' shares add up to the single process's batches, split nearly evenly.
        var perRank = b["examples_per_rank"]!.AsArray().Select(x => x!.GetValue<long>()).ToArray();
        var total = a["examples_per_rank"]!.AsArray().Single()!.GetValue<long>();
        Assert.Equal(2, perRank.Length);
        Assert.Equal(total, perRank.Sum());
        Assert.InRange(perRank.Min(), total / 2 - 8, total / 2);

        // Only rank 0 wrote a run folder, and the temporary folders of the other ranks are gone.
        Assert.True(File.Exists(Path.Combine(parallel, "model.bin")));
        var (maxDifference, maxMagnitude) = ParameterDifference(Path.Combine(single, "model.bin"), Path.Combine(parallel, "model.bin"));
        Assert.True(maxMagnitude > 0.01, "the models must hold trained weights");
        Assert.InRange(maxDifference, 0, 1e-5);
    }

    /// <summary>What does not run data-parallel yet is refused on every rank (exit 2, the job ends), not run K times over.</summary>
    [MpiFact]
    public void UnsupportedSettingsUnderMpiexecExitTwoNamingThem()
    {
        var (code, stdout, stderr) = Run(TimeSpan.FromMinutes(2), Mpiexec, "-n", "2", "dotnet", Cli, "train", "mnist", "--smoke", "--no-dp", "--out", Path.Combine(_dir, "nodp"));
        Assert.Equal(2, code);
        Assert.Contains("--no-dp does not run data-parallel yet", stdout + stderr, StringComparison.Ordinal);
    }

    /// <summary>Commands other than train mnist|fashion-mnist refuse to start as K ranks (each would do the whole work).</summary>
    [Theory]
    [InlineData("epsilon", "--noise-multiplier", "1.1", "--batch-size", "256", "--dataset-size", "60000", "--epochs", "10")]
    [InlineData("train", "text", "--help")]
    public async Task OtherCommandsRefuseToRunAsSeveralRanks(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(Cli);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        // What MPICH's launcher sets for each of 2 ranks; no MPI call is made before the refusal.
        info.Environment["PMI_SIZE"] = "2";
        info.Environment["PMI_RANK"] = "0";
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(1)));
        Assert.Equal(2, process.ExitCode);
        Assert.Contains("only 'train mnist' and 'train fashion-mnist' run data-parallel", await stderr, StringComparison.Ordinal);
    }

    /// <summary>A rank killed with SIGKILL ends the whole job (no rank left waiting), with the launcher's message, within 60 s.</summary>
    [MpiFact]
    public void KillingRankOneEndsTheJobWithAMessage()
    {
        var runDir = Path.Combine(_dir, "killed");
        using var job = Start(Mpiexec, "-n", "2", "dotnet", Cli, "train", "mnist", "--model", "cnn", "--train-examples", "3000", "--epochs", "200", "--seed", "7", "--out", runDir);
        var output = new System.Text.StringBuilder();
        job.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        job.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        job.BeginOutputReadLine();
        job.BeginErrorReadLine();
        string Output()
        {
            lock (output)
            {
                return output.ToString();
            }
        }

        try
        {
            // Wait until the ranks are training (rank 0 reports its first epoch), then kill rank 1.
            var rankOne = WaitFor(() => Output().Contains("epoch 1:", StringComparison.Ordinal) ? RankOneOf(runDir) : null, TimeSpan.FromMinutes(2));
            Assert.True(rankOne is not null, $"rank 1 never started training:\n{Output()}");
            using (var victim = Process.GetProcessById(rankOne.Value))
            {
                victim.Kill();
            }

            var clock = Stopwatch.StartNew();
            Assert.True(job.WaitForExit(TimeSpan.FromSeconds(60)), "the job kept running for 60 s after rank 1 was killed");
            Assert.NotEqual(0, job.ExitCode);
            job.WaitForExit(); // the output handlers have run
            Assert.Contains("BAD TERMINATION", Output(), StringComparison.Ordinal);
            Assert.InRange(clock.Elapsed.TotalSeconds, 0, 60);
        }
        finally
        {
            if (!job.HasExited)
            {
                job.Kill(entireProcessTree: true);
            }
        }
    }

    /// <summary>The pid of the process that is rank 1 of the job writing to <paramref name="runDir"/> (its environment says PMI_RANK=1).</summary>
    private static int? RankOneOf(string runDir)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            try
            {
                var cmdline = File.ReadAllText(Path.Combine(dir, "cmdline"));
                if (!cmdline.Contains(runDir, StringComparison.Ordinal) || !cmdline.StartsWith("dotnet", StringComparison.Ordinal))
                {
                    continue;
                }

                if (File.ReadAllText(Path.Combine(dir, "environ")).Split('\0').Contains("PMI_RANK=1"))
                {
                    return pid;
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return null;
    }

    private static T? WaitFor<T>(Func<T?> probe, TimeSpan timeout)
        where T : struct
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (probe() is { } found)
            {
                return found;
            }

            Thread.Sleep(200);
        }

        return null;
    }

    private static (double MaxDifference, double MaxMagnitude) ParameterDifference(string a, string b)
    {
        TorchRuntime.EnsureLoaded();
        using var x = ModelZoo.MnistCnn();
        using var y = ModelZoo.MnistCnn();
        x.load(a);
        y.load(b);
        double difference = 0, magnitude = 0;
        foreach (var (p, q) in x.parameters().Zip(y.parameters()))
        {
            difference = Math.Max(difference, (p - q).abs().max().item<float>());
            magnitude = Math.Max(magnitude, p.abs().max().item<float>());
        }

        return (difference, magnitude);
    }
}

using System.CommandLine;
using System.Runtime.InteropServices;
using DiffPriv.Cli.Commands;

namespace DiffPriv.Cli;

/// <summary>The <c>diffpriv</c> command tree. Exit codes: 0 success, 1 failure, 2 invalid input.</summary>
internal static class CliApp
{
    public const int ExitOk = 0;
    public const int ExitFailure = 1;
    public const int ExitUsage = 2;

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var root = new RootCommand(
            "DiffPriv: differentially private training for TorchSharp, with privacy accounting you can report.");
        root.Subcommands.Add(EpsilonCommand.Create(stdout, stderr));
        root.Subcommands.Add(NoiseCommand.Create(stdout, stderr));
        root.Subcommands.Add(BenchCommand.Create(stdout, stderr));
        root.Subcommands.Add(TrainCommand.Create(stdout, stderr));
        root.Subcommands.Add(ExperimentCommand.Create(stdout, stderr));
        root.Subcommands.Add(AuditCommand.Create(stdout, stderr));
        root.Subcommands.Add(FetchCommand.Create(stdout, stderr));

        var parsed = root.Parse(args);
        if (parsed.Errors.Count == 0 && Distributed.MpiWorld.LaunchedSize > 1 && !(args is ["train", "mnist" or "fashion-mnist", ..] && !args.Contains("--help") && !args.Contains("-h")))
        {
            // K copies of any other command would each do the whole work (and write the same files).
            stderr.WriteLine($"error: started as {Distributed.MpiWorld.LaunchedSize} MPI ranks, but only 'train mnist' and 'train fashion-mnist' run data-parallel; run this command without mpiexec");
            return ExitUsage;
        }

        if (parsed.Errors.Count > 0)
        {
            // One line naming the problem; usage with --help. A token that matched nothing ("train cifar10") says more
            // than the missing subcommand it also causes.
            var error = parsed.Errors.FirstOrDefault(e => parsed.UnmatchedTokens.Any(t => e.Message.Contains($"'{t}'", StringComparison.Ordinal))) ?? parsed.Errors[0];
            stderr.WriteLine($"error: {error.Message} (see --help)");
            return ExitUsage;
        }

        try
        {
            return parsed.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (UsageException e)
        {
            stderr.WriteLine($"error: {e.Message}");
            return ExitUsage;
        }
        catch (InvalidOperationException e) when (e.Message.StartsWith("TorchSharp's native library", StringComparison.Ordinal) &&
                                                   !(OperatingSystem.IsLinux() && RuntimeInformation.OSArchitecture == Architecture.X64))
        {
            stderr.WriteLine(
                $"error: this diffpriv tool carries the CPU libtorch for linux-x64 only, and this machine is {RuntimeInformation.RuntimeIdentifier}. " +
                "The accounting commands (epsilon, noise) and audit mia work here; to train, build DiffPriv from source, which picks the libtorch " +
                "backend of this platform (TorchSharp-cpu).");
            return ExitFailure;
        }
        catch (Exception e)
        {
            // A failure is reported in plain words; the stack trace only on request.
            stderr.WriteLine($"error: {e.Message}");
            if (Environment.GetEnvironmentVariable("DIFFPRIV_DEBUG") == "1")
            {
                stderr.WriteLine(e);
            }

            return ExitFailure;
        }
    }
}

/// <summary>Invalid command-line input: reported in one line with exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message)
{
    /// <summary>A library's refusal of the settings, restated without .NET's "(Parameter 'x')" suffix.</summary>
    public static UsageException From(ArgumentException e) => new(e.Message.Split(" (Parameter", 2)[0]);

    /// <summary>
    /// Runs a command's library entry point over input files: settings the library refuses (checked first), a missing file
    /// or a malformed CSV record (with its line) become one usage line (exit 2).
    /// </summary>
    public static T RunOnFiles<T>(Action validate, IEnumerable<string?> files, Func<T> run)
    {
        try
        {
            validate();
            foreach (var file in files.OfType<string>().Where(f => !File.Exists(f)))
            {
                throw new UsageException($"{file}: no such file");
            }

            return run();
        }
        catch (DiffPriv.Datasets.Tabular.CsvFormatException e)
        {
            throw new UsageException(e.Message);
        }
        catch (ArgumentException e)
        {
            throw From(e);
        }
    }
}

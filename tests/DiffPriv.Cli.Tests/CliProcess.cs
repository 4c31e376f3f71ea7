using System.Diagnostics;
using System.Text;

namespace DiffPriv.Cli.Tests;

/// <summary>The built CLI (DiffPriv.Cli.dll beside the tests) in a process of its own, for tests that kill it or need a fresh torch.</summary>
internal static class CliProcess
{
    // The host running these tests (dotnet test starts its test host with it), else the one on the PATH.
    private static string DotnetHost =>
        Environment.ProcessPath is { } host && Path.GetFileNameWithoutExtension(host) == "dotnet" ? host : "dotnet";

    /// <summary>Starts the CLI; its stdout and stderr lines go to <paramref name="output"/> (lock it to read).</summary>
    public static Process Start(string[] args, StringBuilder output, string workingDirectory)
    {
        var process = new Process { StartInfo = StartInfo(args, workingDirectory) };
        void Append(object sender, DataReceivedEventArgs e)
        {
            if (e.Data is { } line)
            {
                lock (output)
                {
                    output.AppendLine(line);
                }
            }
        }

        process.OutputDataReceived += Append;
        process.ErrorDataReceived += Append;
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>Runs the CLI to its end.</summary>
    public static (int ExitCode, string Stdout, string Stderr) Run(string[] args, string workingDirectory)
    {
        using var process = Process.Start(StartInfo(args, workingDirectory))!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout, stderr.Result);
    }

    /// <summary>
    /// Starts the CLI, waits until <paramref name="file"/> exists (a run's first checkpoint) and SIGKILLs it; returns what
    /// it printed. Fails when the run ends first.
    /// </summary>
    public static string KillOnceWritten(string[] args, string file, string workingDirectory)
    {
        var output = new StringBuilder();
        using (var process = Start(args, output, workingDirectory))
        {
            var clock = Stopwatch.StartNew();
            while (!File.Exists(file))
            {
                if (process.HasExited)
                {
                    // The message only when failing, and under the lock: the output handlers append on other threads.
                    lock (output)
                    {
                        Assert.Fail($"the run ended before {file} was written: {output}");
                    }
                }

                Assert.True(clock.Elapsed < TimeSpan.FromMinutes(2), $"no {file} after two minutes");
                Thread.Sleep(2);
            }

            process.Kill(); // SIGKILL
            process.WaitForExit();
        }

        lock (output)
        {
            return output.ToString();
        }
    }

    private static ProcessStartInfo StartInfo(string[] args, string workingDirectory)
    {
        var start = new ProcessStartInfo(DotnetHost)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "DiffPriv.Cli.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        return start;
    }
}

using BenchmarkDotNet.Running;

namespace DiffPriv.Benchmarks;

internal static class Program
{
    // dotnet run -c Release --project benchmarks/DiffPriv.Benchmarks -- --filter '*Accounting*'
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}

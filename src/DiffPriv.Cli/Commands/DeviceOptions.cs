using System.CommandLine;
using DiffPriv.Experiments.Training;

namespace DiffPriv.Cli.Commands;

/// <summary>The <c>--device</c> option of the commands that run on the CPU only so far (experiments, benchmarks).</summary>
internal static class DeviceOptions
{
    /// <summary>
    /// <c>--device cpu</c>, for every subcommand of the command it is added to; <c>cuda</c> is refused (exit 2) rather than
    /// silently run on the CPU.
    /// </summary>
    /// <param name="what">What runs on the CPU only, e.g. "experiments".</param>
    public static Option<string> CpuOnly(string what)
    {
        var option = new Option<string>("--device")
        {
            Description = $"cpu (the default). The {what} run on the CPU only so far; train mnist|fashion-mnist takes --device cuda.",
            Recursive = true,
        };
        option.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<string>();
            try
            {
                if (value is not null && DeviceChoice.IsCuda(value))
                {
                    result.AddError($"--device {value}: the {what} run on the CPU only so far (train mnist|fashion-mnist takes --device cuda)");
                }
            }
            catch (ArgumentException e)
            {
                result.AddError(UsageException.From(e).Message);
            }
        });
        return option;
    }
}

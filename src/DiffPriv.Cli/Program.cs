using DiffPriv.Distributed;

namespace DiffPriv.Cli;

internal static class Program
{
    public static int Main(string[] args)
    {
        var code = CliApp.Run(args, Console.Out, Console.Error);
        if (MpiWorld.Current is { } world)
        {
            // A rank that fails ends the whole job: the others would wait for it in their next collective call.
            if (code != CliApp.ExitOk && world.Size > 1)
            {
                world.Abort($"diffpriv exited with code {code} (its error is above)", code);
            }

            world.Dispose();
        }

        return code;
    }
}

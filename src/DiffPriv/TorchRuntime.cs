using System.Runtime.InteropServices;
using TorchSharp;

namespace DiffPriv;

/// <summary>Checks that TorchSharp's native library (libtorch) can be loaded, with a clear fix when it cannot.</summary>
public static class TorchRuntime
{
    private static readonly Lock Gate = new();
    private static bool _loaded;

    /// <summary>
    /// Loads libtorch once. Call before the first tensor operation to turn an obscure native load failure into
    /// an error that says how to fix the machine.
    /// </summary>
    /// <exception cref="InvalidOperationException">The native library cannot be loaded; the message says what to install.</exception>
    public static void EnsureLoaded()
    {
        lock (Gate)
        {
            if (_loaded)
            {
                return;
            }

            try
            {
                torch.InitializeDeviceType(DeviceType.CPU);
                using var probe = torch.ones(1);
                _loaded = true;
            }
            catch (Exception e) when (e is DllNotFoundException or NotSupportedException or TypeInitializationException or ExternalException)
            {
                throw new InvalidOperationException(
                    "TorchSharp's native library could not be loaded. On Linux it needs libstdc++ with GLIBCXX_3.4.32 " +
                    "(GCC 13 or newer): on Debian 12, as root, add the Debian 13 (trixie) suite as an apt source with a low pin " +
                    "priority and run 'apt-get install -t trixie libstdc++6'; elsewhere install libstdc++ from GCC 13 or newer. " +
                    "Also make sure the program references a libtorch backend (TorchSharp-cpu, or a TorchSharp-cuda package). Cause: " + e.Message,
                    e);
            }
        }
    }
}

using DiffPriv.Experiments.Training;
using TorchSharp;

namespace DiffPriv.Experiments.Tests.Training;

public sealed class DeviceChoiceTests
{
    [Theory]
    [InlineData("cpu", "cpu")]
    [InlineData(" CPU ", "cpu")]
    [InlineData("cuda", "cuda")]
    [InlineData("CUDA:1", "cuda:1")]
    public void NamesAreNormalised(string text, string expected) => Assert.Equal(expected, DeviceChoice.Normalize(text));

    [Theory]
    [InlineData("gpu")]
    [InlineData("cuda:")]
    [InlineData("cuda:-1")]
    [InlineData("cuda:x")]
    [InlineData("")]
    public void MalformedNamesAreRefused(string text) =>
        Assert.Contains("--device must be cpu, cuda or cuda:N", Assert.Throws<ArgumentException>(() => DeviceChoice.Normalize(text)).Message, StringComparison.Ordinal);

    [Fact]
    public void CpuResolvesToTheCpuAndCudaIsRefusedWhereThereIsNone()
    {
        Assert.Equal(DeviceType.CPU, DeviceChoice.Resolve("cpu").type);
        TorchRuntime.EnsureLoaded();
        if (!torch.cuda.is_available())
        {
            // The CPU backend (this repository's tests) cannot run CUDA: the refusal says what a CUDA user references.
            var e = Assert.Throws<ArgumentException>(() => DeviceChoice.Resolve("cuda"));
            Assert.Contains("TorchSharp-cuda-linux", e.Message, StringComparison.Ordinal);
        }
        else
        {
            Assert.Equal(DeviceType.CUDA, DeviceChoice.Resolve("cuda:0").type);
        }
    }
}

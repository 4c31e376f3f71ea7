using TorchSharp;

namespace DiffPriv.Tests;

public sealed class TorchRuntimeTests
{
    [Fact]
    public void NativeLibraryLoadsAndComputes()
    {
        TorchRuntime.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        var a = torch.arange(1, 5, dtype: torch.float32);
        var b = a.reshape(2, 2).matmul(a.reshape(2, 2));
        // [[1,2],[3,4]]² = [[7,10],[15,22]]
        Assert.Equal([7f, 10f, 15f, 22f], b.flatten().data<float>().ToArray());
        Assert.Equal(54f, b.sum().item<float>());
    }
}

using DiffPriv.Models;
using DiffPriv.Parallel;
using DiffPriv.Tests.Training;
using TorchSharp;

namespace DiffPriv.Tests.Parallel;

public sealed class DataParallelTrainingTests
{
    [Theory]
    [InlineData(0L, 2)]
    [InlineData(1L, 2)]
    [InlineData(7L, 2)]
    [InlineData(10L, 3)]
    [InlineData(1001L, 4)]
    public void PartsCoverEveryIndexOnceInOrderAndDifferByAtMostOne(long n, int size)
    {
        var covered = new List<long>();
        var lengths = new List<long>();
        for (var rank = 0; rank < size; rank++)
        {
            var (start, end) = DataParallelTraining.Part(n, rank, size);
            Assert.True(start <= end);
            lengths.Add(end - start);
            for (var i = start; i < end; i++)
            {
                covered.Add(i);
            }
        }

        Assert.Equal(Enumerable.Range(0, (int)n).Select(i => (long)i), covered);
        Assert.True(lengths.Max() - lengths.Min() <= 1);
    }

    [Fact]
    public void ModelDigestChangesWithAnyParameterAndNotWithIdenticalCopies()
    {
        TorchRuntime.EnsureLoaded();
        using var a = TrainingFixtures.Initialise(ModelZoo.MnistCnn(), 3);
        using var b = TrainingFixtures.Initialise(ModelZoo.MnistCnn(), 3);
        Assert.Equal(DataParallelTraining.ModelDigest(a), DataParallelTraining.ModelDigest(b));

        using (torch.no_grad())
        {
            var last = b.parameters().Last();
            last[0].add_(1e-6f);
        }

        Assert.NotEqual(DataParallelTraining.ModelDigest(a), DataParallelTraining.ModelDigest(b));
    }
}

using DiffPriv.Accounting.Pld;

namespace DiffPriv.Accounting.Tests.Pld;

/// <summary>Compares a PMF with upstream's dictionary of grid index → mass.</summary>
internal static class PmfAssert
{
    /// <summary>Every grid point's mass matches (absent keys mean 0) and every expected key lies on the PMF's grid.</summary>
    public static void Equal(IReadOnlyDictionary<int, double> expected, PldPmf pmf, double tolerance)
    {
        for (var i = 0; i < pmf.Size; i++)
        {
            var key = (int)(pmf.LowerIndex + i);
            Assert.True(Math.Abs(expected.GetValueOrDefault(key) - pmf.Probs[i]) <= tolerance, $"mass at {key}: expected {expected.GetValueOrDefault(key)}, got {pmf.Probs[i]}");
        }

        foreach (var key in expected.Keys)
        {
            Assert.InRange(key, pmf.LowerIndex, pmf.LowerIndex + pmf.Size - 1);
        }
    }

    /// <summary>The dense array and its first index.</summary>
    public static void Equal(long expectedLowerIndex, double[] expected, PldPmf pmf, double tolerance)
    {
        Assert.Equal(expectedLowerIndex, pmf.LowerIndex);
        Assert.Equal(expected.Length, pmf.Size);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - pmf.Probs[i]) <= tolerance, $"mass at {pmf.LowerIndex + i}: expected {expected[i]}, got {pmf.Probs[i]}");
        }
    }
}

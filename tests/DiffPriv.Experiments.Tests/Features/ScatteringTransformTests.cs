using DiffPriv.Experiments.Features;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPriv.Experiments.Tests.Features;

public sealed class ScatteringTransformTests
{
    // Golden values: Kymatio's NumPy Scattering2D(J=2, shape=(28, 28), L=8) (kymatio/kymatio, kymatio/scattering2d/,
    // commit 11552ed5533d566e6c60d77eecccb37dfb229dec, version 0.4.0.dev0) on the image x[i, k] = ((7i + 13k) mod 17)/16
    // in float64: the sum of each of the 81 output channels over its 7×7 coefficients, and four single coefficients.
    private static readonly double[] KymatioChannelSums =
    [
        24.4378915756, 3.4697039502, 2.8003933345, 3.9826685518, 2.2427580569, 5.7885627282, 3.3900568286, 3.0218302632,
        1.5160533622, 0.4315947931, 0.4294230818, 0.6365875097, 0.4022885596, 0.310930153, 0.5206131313, 1.5333708349,
        1.0232679578, 0.1690922035, 0.0986806218, 0.0657479753, 0.0585920157, 0.051375721, 0.1683724578, 0.4925084008,
        0.282761426, 0.074852082, 0.0991041237, 0.1478220763, 0.1200759401, 0.0882420944, 0.0842276023, 0.1075971562,
        0.0961409156, 0.1361100403, 0.1440296205, 0.3085484903, 0.1954351169, 0.155299533, 0.0951807775, 0.120700964,
        0.1398926321, 0.0895163457, 0.0995550686, 0.145995786, 0.0989547558, 0.0942783476, 0.0854588682, 0.1145202503,
        0.1301938262, 0.1211679407, 0.0968578793, 0.1567853601, 0.1638029469, 0.1604026874, 0.2506806714, 0.5333140428,
        0.330168508, 0.0659076975, 0.0731972055, 0.1207072005, 0.1263975042, 0.1287850307, 0.1214042423, 0.229114422,
        0.1438838386, 0.1193349423, 0.0703289625, 0.0472354027, 0.050859849, 0.0480943169, 0.1956850219, 0.512505825,
        0.2602288288, 0.0966729486, 0.0865764676, 0.1062074211, 0.1024704938, 0.0788920091, 0.1107931891, 0.3024126824,
        0.2023654351,
    ];

    [Fact]
    public void MatchesKymatioOnAFixedImage()
    {
        using var scatter = new ScatteringTransform(28, 28);
        using var image = PatternImage();
        using var output = scatter.Transform(image);
        Assert.Equal([1, 81, 7, 7], output.shape);
        using var sums = output.reshape(81, 49).sum(1).to_type(ScalarType.Float64);
        var actual = sums.data<double>().ToArray();
        for (var c = 0; c < 81; c++)
        {
            // float32 FFTs: measured agreement within 1e-6 relative (Kymatio builds its filters in complex64 too).
            Assert.True(Math.Abs(actual[c] - KymatioChannelSums[c]) < 3e-6 * KymatioChannelSums[c], $"channel {c}: {actual[c]} vs Kymatio's {KymatioChannelSums[c]}");
        }

        Assert.Equal(0.5132621463626148, output[0, 0, 3, 3].item<float>(), 5);
        Assert.Equal(0.12622622053141352, output[0, 5, 2, 4].item<float>(), 5);
        Assert.Equal(0.005911522000171303, output[0, 40, 6, 0].item<float>(), 5);
        Assert.Equal(0.006488333136168055, output[0, 80, 1, 5].item<float>(), 5);
    }

    [Fact]
    public void OutputShapeIs81ChannelsAt7x7PerInputChannel()
    {
        using var scatter = new ScatteringTransform(28, 28);
        Assert.Equal(81, scatter.ChannelsPerInput);
        using var images = torch.rand(3, 2, 28, 28);
        using var output = scatter.Transform(images);
        Assert.Equal([3, 162, 7, 7], output.shape);
        // Each input channel is transformed on its own: channel 1's block is the transform of channel 1 alone.
        using var second = scatter.Transform(images.narrow(1, 1, 1));
        Assert.True(output.narrow(1, 81, 81).allclose(second, rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void AConstantImageHasOnlyItsAverageInTheOrderZeroChannel()
    {
        // Every Morlet wavelet sums to exactly 0, so every |x ⋆ ψ| vanishes; φ sums to π/3.1415 (Kymatio's normalisation
        // 2·3.1415·σ² of a Gaussian whose samples sum to 2πσ²), so S0 is the average times that.
        using var scatter = new ScatteringTransform(28, 28);
        using var image = torch.full(1, 1, 28, 28, 0.7f);
        using var output = scatter.Transform(image);
        Assert.True(output[0, 0].allclose(torch.full(7, 7, (float)(0.7 * Math.PI / 3.1415)), rtol: 0, atol: 2e-6));
        Assert.True(output.narrow(1, 1, 80).abs().max().item<float>() < 1e-5);
    }

    [Fact]
    public void TransposingTheImagePermutesTheOrientations()
    {
        // Swapping the axes maps orientation θ = (3 − t)π/8 to π/2 − θ = (3 − t')π/8 with t' = (2 − t) mod 8, and the
        // padding, subsampling and crop are symmetric in the two axes: the transform commutes with it exactly.
        using var scatter = new ScatteringTransform(28, 28);
        using var image = torch.rand(1, 1, 28, 28, generator: new Generator(7));
        using var direct = scatter.Transform(image);
        using var transposed = scatter.Transform(image.transpose(2, 3).contiguous());
        static int T(int t) => ((2 - t) % 8 + 8) % 8;
        var map = new List<long> { 0 };
        map.AddRange(Enumerable.Range(0, 16).Select(c => (long)((c / 8 * 8) + T(c % 8) + 1)));
        map.AddRange(Enumerable.Range(0, 64).Select(c => (long)(17 + (T(c / 8) * 8) + T(c % 8))));
        using var index = torch.tensor(map.ToArray());
        using var expected = direct.index_select(1, index).transpose(2, 3);
        Assert.True(transposed.allclose(expected, rtol: 1e-4, atol: 1e-6), $"max difference {(transposed - expected).abs().max().item<float>()}");
    }

    [Fact]
    public void ASmallShiftChangesTheFeaturesMuchLessThanThePixels()
    {
        // Local translation invariance at scale 2^J = 4: a one-pixel shift of a stroke 3 pixels wide changes the pixels by
        // 82% (relative) and the features by 40% (Kymatio gives the same 0.396); without the low-pass averaging they would
        // move as much as the pixels.
        using var scatter = new ScatteringTransform(28, 28);
        using var image = Blob(13.0, 13.0);
        using var shifted = Blob(13.0, 14.0);
        using var a = scatter.Transform(image);
        using var b = scatter.Transform(shifted);
        var pixels = (shifted - image).norm().item<float>() / image.norm().item<float>();
        var features = (b - a).norm().item<float>() / a.norm().item<float>();
        Assert.True(pixels > 0.5, $"pixels {pixels}");
        Assert.True(features < 0.6 * pixels, $"features moved {features}, pixels {pixels}");
    }

    [Fact]
    public void TransformAllMatchesTransformInChunks()
    {
        using var scatter = new ScatteringTransform(28, 28);
        using var images = torch.rand(7, 1, 28, 28);
        using var whole = scatter.Transform(images);
        using var chunked = scatter.TransformAll(images, chunk: 3);
        Assert.True(whole.allclose(chunked, rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void RejectsImagesOfAnotherSize()
    {
        using var scatter = new ScatteringTransform(28, 28);
        using var images = torch.rand(1, 1, 32, 32);
        Assert.Throws<ArgumentException>(() => scatter.Transform(images));
        Assert.Throws<ArgumentException>(() => new ScatteringTransform(30, 30));
    }

    private static Tensor PatternImage()
    {
        var values = new float[28 * 28];
        for (var i = 0; i < 28; i++)
        {
            for (var k = 0; k < 28; k++)
            {
                values[(i * 28) + k] = ((7 * i) + (13 * k)) % 17 / 16f;
            }
        }

        return torch.tensor(values, [1, 1, 28, 28]);
    }

    // A bar (a stroke) 3 pixels wide and 17 long, centred at (row, column), on a zero background.
    private static Tensor Blob(double row, double column)
    {
        var values = new float[28 * 28];
        for (var i = 0; i < 28; i++)
        {
            for (var k = 0; k < 28; k++)
            {
                var d = Math.Abs(k - column);
                values[(i * 28) + k] = i >= row - 8 && i <= row + 8 && d < 1.5 ? 1f : 0f;
            }
        }

        return torch.tensor(values, [1, 1, 28, 28]);
    }
}

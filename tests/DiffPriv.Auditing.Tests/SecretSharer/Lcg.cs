namespace DiffPriv.Auditing.Tests.SecretSharer;

/// <summary>
/// A 64-bit linear congruential generator (Knuth's MMIX constants) with 53-bit uniforms in (0, 1), and skew-normal
/// samples by the Azzalini–Capitanio construction (as scipy's <c>skewnorm.rvs</c>) from Box–Muller normals. Mirrors
/// <c>lcg_uniforms</c>/<c>skewnorm_sample</c> in skewnormal_goldens.py so both languages draw the same sample.
/// </summary>
internal sealed class Lcg(ulong seed)
{
    private ulong _state = seed;

    public double NextUniform()
    {
        _state = unchecked((_state * 6364136223846793005UL) + 1442695040888963407UL);
        return ((_state >> 11) + 0.5) / 9007199254740992.0;
    }

    public double[] SkewNormal(int n, double shape, double location, double scale)
    {
        var d = shape / Math.Sqrt(1 + (shape * shape));
        var result = new double[n];
        for (var i = 0; i < n; i++)
        {
            var u1 = NextUniform();
            var u2 = NextUniform();
            var r = Math.Sqrt(-2.0 * Math.Log(u1));
            var n0 = r * Math.Cos(2.0 * Math.PI * u2);
            var n1 = r * Math.Sin(2.0 * Math.PI * u2);
            var v = (d * n0) + (Math.Sqrt(1 - (d * d)) * n1);
            result[i] = location + (scale * (n0 >= 0 ? v : -v));
        }

        return result;
    }
}

using DiffPriv.Accounting.Numerics;

namespace DiffPriv.Accounting.Tests.Numerics;

/// <summary>
/// The log-space helpers against reference values computed with mpmath at 50 digits (rounded to double): no
/// upstream test; reference_values.py in this project recomputes them (mpmath 1.2.1, Debian 12's python3-mpmath).
/// </summary>
public sealed class LogMathTests
{
    [Theory]
    [InlineData(1e-20, 1e-20)]
    [InlineData(1e-10, 1.00000000005e-10)]
    [InlineData(-1e-5, -9.9999500001666658e-06)]
    [InlineData(0.5, 0.6487212707001282)]
    [InlineData(-1.0, -0.6321205588285577)]
    [InlineData(-100.0, -1.0)]
    [InlineData(10.0, 22025.465794806718)]
    public void Expm1(double x, double expected)
    {
        Assert.Equal(expected, LogMath.Expm1(x), Math.Abs(expected) * 4e-16);
    }

    [Theory]
    [InlineData(1e-20, 1e-20)]
    [InlineData(1e-10, 9.999999999500001e-11)]
    [InlineData(-1e-5, -1.0000050000333337e-05)]
    [InlineData(0.5, 0.4054651081081644)]
    [InlineData(-0.5, -0.6931471805599453)]
    [InlineData(10.0, 2.3978952727983707)]
    [InlineData(-0.999, -6.907755278982136)]
    public void Log1p(double x, double expected)
    {
        Assert.Equal(expected, LogMath.Log1p(x), Math.Abs(expected) * 4e-16);
    }

    [Fact]
    public void Log1pAndExpm1Limits()
    {
        Assert.Equal(double.NegativeInfinity, LogMath.Log1p(-1));
        Assert.Equal(double.PositiveInfinity, LogMath.Log1p(double.PositiveInfinity));
        Assert.Equal(-1.0, LogMath.Expm1(double.NegativeInfinity));
        Assert.Equal(double.PositiveInfinity, LogMath.Expm1(1000));
    }

    [Theory]
    [InlineData(0.1, 0.887537083981715)]
    [InlineData(0.46875, 0.507386526782062)]
    [InlineData(0.5, 0.4795001221869535)]
    [InlineData(1.0, 0.15729920705028513)]
    [InlineData(2.0, 0.004677734981047266)]
    [InlineData(3.9, 3.4792248597231765e-08)]
    [InlineData(4.1, 6.700027654084918e-09)]
    [InlineData(5.0, 1.537459794428035e-12)]
    [InlineData(10.0, 2.088487583762545e-45)]
    [InlineData(-0.2, 1.2227025892104784)]
    [InlineData(-2.0, 1.9953222650189528)]
    [InlineData(0.0, 1.0)]
    public void Erfc(double x, double expected)
    {
        Assert.Equal(expected, LogMath.Erfc(x), expected * 1e-15);
    }

    [Theory]
    [InlineData(0.1, -0.11930497373739561)]
    [InlineData(0.3, -0.39843005144008525)]
    [InlineData(0.46875, -0.6784821856143961)]
    [InlineData(0.5, -0.7350111298370844)]
    [InlineData(1.0, -1.8496055099332482)]
    [InlineData(2.0, -5.364941264616638)]
    [InlineData(3.0, -10.720363041981113)]
    [InlineData(4.0, -17.987778312103007)]
    [InlineData(5.0, -27.200889545537436)]
    [InlineData(10.0, -102.87988902484489)]
    [InlineData(26.0, -679.8311997631943)]
    [InlineData(27.0, -732.8688865078974)]
    [InlineData(30.0, -903.9741171106439)]
    [InlineData(100.0, -10005.177585122665)]
    [InlineData(1000.0, -1000007.4801207219)]
    [InlineData(1e5, -10000000012.08529)]
    [InlineData(1e8, -1.0000000000000018e+16)]
    [InlineData(-0.3, 0.28414589714140825)]
    [InlineData(-1.0, 0.6112323176780705)]
    [InlineData(-3.0, 0.6931361352504468)]
    [InlineData(-30.0, 0.6931471805599453)]
    public void LogErfc(double x, double expected)
    {
        Assert.Equal(expected, LogMath.LogErfc(x), Math.Abs(expected) * 1e-15);
    }

    [Fact]
    public void LogAddAndLogSubSign()
    {
        Assert.Equal(Math.Log(5.0), LogMath.LogAdd(Math.Log(2.0), Math.Log(3.0)), 1e-15);
        Assert.Equal(1000 + Math.Log(2), LogMath.LogAdd(1000, 1000), 1e-12);
        Assert.Equal(-3.0, LogMath.LogAdd(double.NegativeInfinity, -3.0));
        var (positive, logOne) = LogMath.LogSubSign(Math.Log(3.0), Math.Log(2.0));
        Assert.True(positive);
        Assert.Equal(0.0, logOne, 1e-15);
        var (sign, magnitude) = LogMath.LogSubSign(Math.Log(2.0), Math.Log(5.0));
        Assert.False(sign);
        Assert.Equal(Math.Log(3.0), magnitude, 1e-15);
        Assert.Equal((true, double.NegativeInfinity), LogMath.LogSubSign(1.5, 1.5));
    }
}

namespace DiffPriv.Auditing.MembershipInference;

/// <summary>A binary classifier an attack trains: fit on feature rows with member labels, then score rows (a logit).</summary>
internal interface IAttackModel
{
    /// <summary>Fits the model; rows are standardised with the training rows' mean and standard deviation.</summary>
    void Fit(double[][] features, bool[] isMember);

    /// <summary>The decision value (logit; higher = more likely a member). Logits, not probabilities, avoid saturation ties.</summary>
    double Score(double[] features);
}

/// <summary>Per-feature standardisation fitted on training rows (features with zero spread are only centred).</summary>
internal sealed class Standardizer
{
    private readonly double[] _mean;
    private readonly double[] _scale;

    public Standardizer(double[][] rows)
    {
        var d = rows[0].Length;
        _mean = new double[d];
        _scale = new double[d];
        foreach (var row in rows)
        {
            for (var j = 0; j < d; j++)
            {
                _mean[j] += row[j];
            }
        }

        for (var j = 0; j < d; j++)
        {
            _mean[j] /= rows.Length;
        }

        foreach (var row in rows)
        {
            for (var j = 0; j < d; j++)
            {
                _scale[j] += (row[j] - _mean[j]) * (row[j] - _mean[j]);
            }
        }

        for (var j = 0; j < d; j++)
        {
            var sd = Math.Sqrt(_scale[j] / rows.Length);
            _scale[j] = sd > 1e-12 ? 1 / sd : 1;
        }
    }

    public double[] Apply(double[] row)
    {
        var z = new double[row.Length];
        for (var j = 0; j < row.Length; j++)
        {
            z[j] = (row[j] - _mean[j]) * _scale[j];
        }

        return z;
    }
}

/// <summary>
/// L2-regularised logistic regression: minimises Σ log(1 + e^{z_i}) − y_i z_i + ½λ‖w‖² (λ = 1, intercept unpenalised;
/// scikit-learn's LogisticRegression() default C = 1) by Newton's method with backtracking on standardised features.
/// </summary>
internal sealed class LogisticRegressionModel : IAttackModel
{
    public const double Lambda = 1;
    private Standardizer? _standardizer;

    /// <summary>Weights then intercept (last), after <see cref="Fit"/>.</summary>
    public double[] Coefficients { get; private set; } = [];

    /// <summary>Gradient of the objective at the solution (for tests: ≈ 0 at convergence).</summary>
    public double[] FinalGradient { get; private set; } = [];

    public void Fit(double[][] features, bool[] isMember)
    {
        _standardizer = new Standardizer(features);
        var x = features.Select(_standardizer.Apply).ToArray();
        var n = x.Length;
        var d = x[0].Length;
        var beta = new double[d + 1];
        var objective = Objective(x, isMember, beta);
        for (var iteration = 0; iteration < 100; iteration++)
        {
            var (gradient, hessian) = Derivatives(x, isMember, beta);
            FinalGradient = gradient;
            if (gradient.Max(Math.Abs) < 1e-10 * Math.Max(1, n))
            {
                break;
            }

            // Newton step with backtracking; a candidate is accepted when the objective does not rise beyond rounding.
            var step = Cholesky.Solve(hessian, gradient);
            var t = 1.0;
            double[] candidate;
            double candidateObjective;
            while (true)
            {
                candidate = [.. beta.Select((b, j) => b - (t * step[j]))];
                candidateObjective = Objective(x, isMember, candidate);
                if (candidateObjective <= objective + (1e-13 * Math.Abs(objective)) || t < 1e-10)
                {
                    break;
                }

                t /= 2;
            }

            var moved = step.Max(Math.Abs) * t;
            beta = candidate;
            objective = candidateObjective;
            if (moved < 1e-13 * (1 + beta.Max(Math.Abs)))
            {
                FinalGradient = Derivatives(x, isMember, beta).Gradient;
                break;
            }
        }

        Coefficients = beta;
    }

    public double Score(double[] features)
    {
        var z = (_standardizer ?? throw new InvalidOperationException("Fit the model first.")).Apply(features);
        return Linear(z, Coefficients);
    }

    private static double Linear(double[] x, double[] beta)
    {
        var z = beta[^1];
        for (var j = 0; j < x.Length; j++)
        {
            z += beta[j] * x[j];
        }

        return z;
    }

    // log(1 + e^z) without overflow.
    private static double Softplus(double z) => z > 0 ? z + SpecialFunctions.Log1p(Math.Exp(-z)) : SpecialFunctions.Log1p(Math.Exp(z));

    private static double Objective(double[][] x, bool[] y, double[] beta)
    {
        var total = 0.0;
        for (var i = 0; i < x.Length; i++)
        {
            var z = Linear(x[i], beta);
            total += Softplus(z) - (y[i] ? z : 0);
        }

        for (var j = 0; j < beta.Length - 1; j++)
        {
            total += 0.5 * Lambda * beta[j] * beta[j];
        }

        return total;
    }

    internal static (double[] Gradient, double[,] Hessian) Derivatives(double[][] x, bool[] y, double[] beta)
    {
        var p1 = beta.Length;
        var gradient = new double[p1];
        var hessian = new double[p1, p1];
        var row = new double[p1];
        row[^1] = 1;
        for (var i = 0; i < x.Length; i++)
        {
            Array.Copy(x[i], row, x[i].Length);
            var z = Linear(x[i], beta);
            var p = 1 / (1 + Math.Exp(-z));
            var residual = p - (y[i] ? 1 : 0);
            var weight = p * (1 - p);
            for (var a = 0; a < p1; a++)
            {
                gradient[a] += residual * row[a];
                for (var b = 0; b <= a; b++)
                {
                    hessian[a, b] += weight * row[a] * row[b];
                }
            }
        }

        for (var a = 0; a < p1; a++)
        {
            for (var b = 0; b < a; b++)
            {
                hessian[b, a] = hessian[a, b];
            }
        }

        for (var j = 0; j < p1 - 1; j++)
        {
            gradient[j] += Lambda * beta[j];
            hessian[j, j] += Lambda;
        }

        hessian[p1 - 1, p1 - 1] += 1e-9; // keeps the intercept row positive definite on separable data
        return (gradient, hessian);
    }
}

/// <summary>Solves A·x = b for a small symmetric positive definite A.</summary>
internal static class Cholesky
{
    public static double[] Solve(double[,] a, double[] b)
    {
        var n = b.Length;
        var l = new double[n, n];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j <= i; j++)
            {
                var sum = a[i, j];
                for (var k = 0; k < j; k++)
                {
                    sum -= l[i, k] * l[j, k];
                }

                if (i == j)
                {
                    l[i, i] = Math.Sqrt(Math.Max(sum, 1e-300));
                }
                else
                {
                    l[i, j] = sum / l[j, j];
                }
            }
        }

        var y = new double[n];
        for (var i = 0; i < n; i++)
        {
            var sum = b[i];
            for (var k = 0; k < i; k++)
            {
                sum -= l[i, k] * y[k];
            }

            y[i] = sum / l[i, i];
        }

        var x = new double[n];
        for (var i = n - 1; i >= 0; i--)
        {
            var sum = y[i];
            for (var k = i + 1; k < n; k++)
            {
                sum -= l[k, i] * x[k];
            }

            x[i] = sum / l[i, i];
        }

        return x;
    }
}

/// <summary>
/// A one-hidden-layer perceptron (ReLU, <see cref="HiddenUnits"/> units, He initialisation) with a logistic output,
/// trained by Adam (lr 0.01) on mini-batches of 64 for about 30 epochs, clamped to [100, 1000] steps, with L2 weight
/// decay 1e-4 (scikit-learn's MLPClassifier alpha default), on standardised features. Seeded, so deterministic; the step
/// cap bounds its cost on large inputs, and the epoch budget keeps it from memorising small folds.
/// </summary>
internal sealed class MlpModel(ulong seed) : IAttackModel
{
    public const int HiddenUnits = 32;
    public const int Steps = 1000;
    public const int MinSteps = 100;
    public const int Epochs = 30;
    private const int BatchSize = 64;
    private const double LearningRate = 0.01;
    private const double WeightDecay = 1e-4;
    private const double Beta1 = 0.9;
    private const double Beta2 = 0.999;
    private const double AdamEpsilon = 1e-8;

    private Standardizer? _standardizer;
    private double[] _w1 = [];   // [H·d], row h = weights of hidden unit h
    private double[] _b1 = [];   // [H]
    private double[] _w2 = [];   // [H]
    private double _b2;
    private int _d;

    /// <summary>Adam steps for n training rows: about <see cref="Epochs"/> passes over the data, at least
    /// <see cref="MinSteps"/> and at most <see cref="Steps"/> (small folds would otherwise be memorised).</summary>
    public static int StepsFor(int n) => Math.Clamp((int)Math.Ceiling(Epochs * n / (double)BatchSize), MinSteps, Steps);

    public void Fit(double[][] features, bool[] isMember)
    {
        _standardizer = new Standardizer(features);
        var x = features.Select(_standardizer.Apply).ToArray();
        var n = x.Length;
        _d = x[0].Length;
        var rng = new SplitMix64(seed);
        const int H = HiddenUnits;
        _w1 = new double[H * _d];
        _b1 = new double[H];
        _w2 = new double[H];
        _b2 = 0;
        var scale1 = Math.Sqrt(2.0 / _d);
        for (var i = 0; i < _w1.Length; i++)
        {
            _w1[i] = rng.NextGaussian() * scale1;
        }

        var scale2 = Math.Sqrt(1.0 / H);
        for (var h = 0; h < H; h++)
        {
            _w2[h] = rng.NextGaussian() * scale2;
        }

        // Parameters flattened as [w1, b1, w2, b2] for Adam.
        var count = _w1.Length + H + H + 1;
        var m = new double[count];
        var v = new double[count];
        var g = new double[count];
        var hidden = new double[H];
        var order = Enumerable.Range(0, n).ToArray();
        rng.Shuffle(order);
        var cursor = 0;
        var batch = Math.Min(BatchSize, n);
        var steps = StepsFor(n);
        for (var step = 1; step <= steps; step++)
        {
            Array.Clear(g);
            for (var bi = 0; bi < batch; bi++)
            {
                if (cursor == n)
                {
                    rng.Shuffle(order);
                    cursor = 0;
                }

                var i = order[cursor++];
                var xi = x[i];
                var z = _b2;
                for (var h = 0; h < H; h++)
                {
                    var a = _b1[h];
                    var offset = h * _d;
                    for (var j = 0; j < _d; j++)
                    {
                        a += _w1[offset + j] * xi[j];
                    }

                    hidden[h] = a > 0 ? a : 0;
                    z += _w2[h] * hidden[h];
                }

                // d(BCE with logits)/dz = sigmoid(z) − y.
                var dz = (1 / (1 + Math.Exp(-z))) - (isMember[i] ? 1 : 0);
                dz /= batch;
                g[count - 1] += dz;
                for (var h = 0; h < H; h++)
                {
                    g[_w1.Length + H + h] += dz * hidden[h];
                    if (hidden[h] > 0)
                    {
                        var da = dz * _w2[h];
                        g[_w1.Length + h] += da;
                        var offset = h * _d;
                        for (var j = 0; j < _d; j++)
                        {
                            g[offset + j] += da * xi[j];
                        }
                    }
                }
            }

            for (var i = 0; i < _w1.Length; i++)
            {
                g[i] += WeightDecay * _w1[i];
            }

            for (var h = 0; h < H; h++)
            {
                g[_w1.Length + H + h] += WeightDecay * _w2[h];
            }

            var correction1 = 1 - Math.Pow(Beta1, step);
            var correction2 = 1 - Math.Pow(Beta2, step);
            for (var k = 0; k < count; k++)
            {
                m[k] = (Beta1 * m[k]) + ((1 - Beta1) * g[k]);
                v[k] = (Beta2 * v[k]) + ((1 - Beta2) * g[k] * g[k]);
                var update = LearningRate * (m[k] / correction1) / (Math.Sqrt(v[k] / correction2) + AdamEpsilon);
                if (k < _w1.Length)
                {
                    _w1[k] -= update;
                }
                else if (k < _w1.Length + H)
                {
                    _b1[k - _w1.Length] -= update;
                }
                else if (k < count - 1)
                {
                    _w2[k - _w1.Length - H] -= update;
                }
                else
                {
                    _b2 -= update;
                }
            }
        }
    }

    public double Score(double[] features)
    {
        var x = (_standardizer ?? throw new InvalidOperationException("Fit the model first.")).Apply(features);
        var z = _b2;
        for (var h = 0; h < HiddenUnits; h++)
        {
            var a = _b1[h];
            var offset = h * _d;
            for (var j = 0; j < _d; j++)
            {
                a += _w1[offset + j] * x[j];
            }

            if (a > 0)
            {
                z += _w2[h] * a;
            }
        }

        return z;
    }
}

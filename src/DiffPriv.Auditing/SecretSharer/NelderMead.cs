namespace DiffPriv.Auditing.SecretSharer;

/// <summary>
/// Derivative-free minimisation by the Nelder–Mead simplex method (Nelder and Mead, Comput. J. 7, 1965) with the usual
/// coefficients (reflection 1, expansion 2, contraction ½, shrink ½) and scipy's stopping rule (every vertex within
/// <c>xTolerance</c> of the best in each coordinate and within <c>fTolerance</c> of it in value), restarted from the
/// best point with a fresh simplex until a restart no longer improves the value (a collapsed simplex can stall short
/// of the minimum).
/// </summary>
internal static class NelderMead
{
    /// <summary>Minimises <paramref name="f"/> from <paramref name="start"/>.</summary>
    /// <param name="f">The objective; may return +∞ or NaN outside its domain (treated as +∞).</param>
    /// <param name="start">The first vertex.</param>
    /// <param name="steps">Offsets of the other initial vertices, one coordinate each; non-zero.</param>
    /// <param name="xTolerance">Coordinate spread at convergence.</param>
    /// <param name="fTolerance">Value spread at convergence.</param>
    /// <param name="maxEvaluations">Budget of objective evaluations over all restarts.</param>
    /// <returns>The best point, its value and the number of evaluations used.</returns>
    public static (double[] Point, double Value, int Evaluations) Minimize(
        Func<double[], double> f, double[] start, double[] steps, double xTolerance, double fTolerance, int maxEvaluations)
    {
        var evaluations = 0;
        double Eval(double[] x)
        {
            evaluations++;
            var v = f(x);
            return double.IsNaN(v) ? double.PositiveInfinity : v;
        }

        var best = (double[])start.Clone();
        var bestValue = Eval(best);
        for (var restart = 0; restart < 20 && evaluations < maxEvaluations; restart++)
        {
            var (point, value) = Run(Eval, best, bestValue, steps, xTolerance, fTolerance, maxEvaluations, () => evaluations);
            var improved = bestValue - value;
            best = point;
            bestValue = value;
            if (!(improved > fTolerance))
            {
                break;
            }
        }

        return (best, bestValue, evaluations);
    }

    private static (double[] Point, double Value) Run(
        Func<double[], double> eval, double[] start, double startValue, double[] steps, double xTolerance, double fTolerance,
        int maxEvaluations, Func<int> evaluations)
    {
        var n = start.Length;
        var vertices = new double[n + 1][];
        var values = new double[n + 1];
        vertices[0] = (double[])start.Clone();
        values[0] = startValue;
        for (var i = 0; i < n; i++)
        {
            var v = (double[])start.Clone();
            v[i] += steps[i];
            vertices[i + 1] = v;
            values[i + 1] = eval(v);
        }

        var order = new int[n + 1];
        while (evaluations() < maxEvaluations)
        {
            for (var i = 0; i <= n; i++)
            {
                order[i] = i;
            }

            Array.Sort(order, (p, q) => values[p].CompareTo(values[q]));
            var bestIndex = order[0];
            var worstIndex = order[n];
            var secondWorstValue = values[order[n - 1]];
            if (Converged(vertices, values, bestIndex, xTolerance, fTolerance))
            {
                break;
            }

            // Centroid of every vertex but the worst.
            var centroid = new double[n];
            for (var k = 0; k < n; k++)
            {
                var idx = order[k];
                for (var j = 0; j < n; j++)
                {
                    centroid[j] += vertices[idx][j] / n;
                }
            }

            var worst = vertices[worstIndex];
            var reflected = Along(centroid, worst, -1.0);
            var reflectedValue = eval(reflected);
            if (reflectedValue < values[bestIndex])
            {
                var expanded = Along(centroid, worst, -2.0);
                var expandedValue = eval(expanded);
                (vertices[worstIndex], values[worstIndex]) = expandedValue < reflectedValue ? (expanded, expandedValue) : (reflected, reflectedValue);
                continue;
            }

            if (reflectedValue < secondWorstValue)
            {
                (vertices[worstIndex], values[worstIndex]) = (reflected, reflectedValue);
                continue;
            }

            // Contraction: outside when the reflection beat the worst vertex, inside otherwise.
            var outside = reflectedValue < values[worstIndex];
            var contracted = Along(centroid, worst, outside ? -0.5 : 0.5);
            var contractedValue = eval(contracted);
            if (contractedValue < (outside ? reflectedValue : values[worstIndex]))
            {
                (vertices[worstIndex], values[worstIndex]) = (contracted, contractedValue);
                continue;
            }

            // Shrink every vertex towards the best.
            var bestVertex = vertices[bestIndex];
            for (var i = 0; i <= n; i++)
            {
                if (i == bestIndex)
                {
                    continue;
                }

                var v = vertices[i];
                for (var j = 0; j < n; j++)
                {
                    v[j] = bestVertex[j] + (0.5 * (v[j] - bestVertex[j]));
                }

                values[i] = eval(v);
            }
        }

        var argMin = 0;
        for (var i = 1; i <= n; i++)
        {
            if (values[i] < values[argMin])
            {
                argMin = i;
            }
        }

        return (vertices[argMin], values[argMin]);
    }

    /// <summary>c + t·(w − c): t = −1 reflects w through c, −2 expands, ±½ contracts.</summary>
    private static double[] Along(double[] centroid, double[] worst, double t)
    {
        var x = new double[centroid.Length];
        for (var j = 0; j < x.Length; j++)
        {
            x[j] = centroid[j] + (t * (worst[j] - centroid[j]));
        }

        return x;
    }

    private static bool Converged(double[][] vertices, double[] values, int bestIndex, double xTolerance, double fTolerance)
    {
        var best = vertices[bestIndex];
        for (var i = 0; i < vertices.Length; i++)
        {
            if (Math.Abs(values[i] - values[bestIndex]) > fTolerance)
            {
                return false;
            }

            for (var j = 0; j < best.Length; j++)
            {
                if (Math.Abs(vertices[i][j] - best[j]) > xTolerance)
                {
                    return false;
                }
            }
        }

        return true;
    }
}

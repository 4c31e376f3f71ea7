using TorchSharp;
using static TorchSharp.torch;

namespace DiffPriv.Experiments.Training;

/// <summary>
/// An exponential moving average of a model's trainable parameters over the training steps, θ̄ ← β·θ̄ + (1 − β)·θ
/// (Polyak-style weight averaging; De et al. 2022 use it for DP-SGD). It reads only the released private iterates, so
/// using it is post-processing and costs no privacy.
/// </summary>
internal sealed class ParameterAverage : IDisposable
{
    private readonly TorchSharp.Modules.Parameter[] _parameters;
    private readonly Tensor[] _average;
    private readonly double _decay;

    /// <summary>Starts the average at the model's current parameters.</summary>
    /// <param name="model">The model whose trainable parameters are averaged.</param>
    /// <param name="decay">β in [0, 1): the weight of the old average at each update.</param>
    public ParameterAverage(nn.Module model, double decay)
    {
        if (!(decay >= 0 && decay < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(decay), decay, "the decay must be in [0, 1)");
        }

        _decay = decay;
        _parameters = [.. model.parameters().Where(p => p.requires_grad)];
        using var noGrad = torch.no_grad();
        _average = [.. _parameters.Select(p => p.detach().clone())];
    }

    /// <summary>Folds the current parameters into the average.</summary>
    public void Update()
    {
        using var noGrad = torch.no_grad();
        for (var i = 0; i < _parameters.Length; i++)
        {
            _average[i].mul_(_decay).add_(_parameters[i], alpha: 1 - _decay);
        }
    }

    /// <summary>Runs <paramref name="action"/> with the averaged parameters in the model, then puts the current ones back.</summary>
    /// <typeparam name="T">The action's result.</typeparam>
    /// <param name="action">E.g. an evaluation.</param>
    /// <returns>Its result.</returns>
    public T With<T>(Func<T> action)
    {
        Tensor[] saved;
        using (torch.no_grad())
        {
            saved = [.. _parameters.Select(p => p.detach().clone())];
            CopyToModel();
        }

        try
        {
            return action();
        }
        finally
        {
            using (torch.no_grad())
            {
                for (var i = 0; i < _parameters.Length; i++)
                {
                    _parameters[i].copy_(saved[i]);
                    saved[i].Dispose();
                }
            }
        }
    }

    /// <summary>The average's values, one array per trainable parameter, for a checkpoint.</summary>
    /// <exception cref="NotSupportedException">A parameter is not float32.</exception>
    public float[][] State() => [.. _average.Select(a => a.dtype == ScalarType.Float32
        ? a.cpu().data<float>().ToArray()
        : throw new NotSupportedException($"the parameter average of {a.dtype} parameters cannot be checkpointed"))];

    /// <summary>Sets the average to values from <see cref="State"/> (a resumed run continues the same average).</summary>
    /// <param name="state">One array per trainable parameter, in the model's order.</param>
    /// <exception cref="InvalidDataException">The arrays do not fit this model's parameters.</exception>
    public void Restore(IReadOnlyList<float[]> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Count != _average.Length || state.Where((values, i) => values.LongLength != _average[i].numel()).Any())
        {
            throw new InvalidDataException("The checkpoint's parameter average does not fit this model's parameters.");
        }

        using var noGrad = torch.no_grad();
        for (var i = 0; i < _average.Length; i++)
        {
            using var values = torch.tensor(state[i], dtype: ScalarType.Float32).reshape(_average[i].shape);
            _average[i].copy_(values);
        }
    }

    /// <summary>Writes the average into the model's parameters.</summary>
    public void CopyToModel()
    {
        using var noGrad = torch.no_grad();
        for (var i = 0; i < _parameters.Length; i++)
        {
            _parameters[i].copy_(_average[i]);
        }
    }

    /// <summary>Frees the average.</summary>
    public void Dispose()
    {
        foreach (var t in _average)
        {
            t.Dispose();
        }
    }
}

using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace DiffPriv.Experiments.UserLevel;

/// <summary>
/// Matrix factorisation for rating prediction: r̂_ui = μ₀ + g + b_i + q_iᵀp_u + c_u, with a movie vector q_i and bias b_i
/// per movie, a global bias g, and a user vector p_u with bias c_u. μ₀ = 2.75 is the middle of MovieLens' public 0.5–5
/// scale (a public constant, not the private mean). Every trainable parameter is an <c>nn.Embedding</c>, so the per-example
/// gradient hooks cover the model.
/// </summary>
/// <remarks>
/// Two ways to get (p_u, c_u), see docs/user-level.md: <see cref="Predict"/> takes them as an input, computed by
/// <see cref="UserVectors"/> from the user's own ratings and the current movie model (the user-level and non-private
/// settings; no user parameter is trained or released); <see cref="PredictWithUserEmbeddings"/> reads them from trained
/// user embeddings (example-level DP-SGD, where they are noised and released like the rest).
/// </remarks>
internal sealed class RatingModel : nn.Module
{
    /// <summary>μ₀, the public offset: the middle of the 0.5–5 star scale.</summary>
    public const double Offset = 2.75;

    [ComponentName(Name = "movie")]
    private readonly Embedding _movie;
    [ComponentName(Name = "movieBias")]
    private readonly Embedding _movieBias;
    [ComponentName(Name = "global")]
    private readonly Embedding _global;
    [ComponentName(Name = "user")]
    private readonly Embedding? _user;
    [ComponentName(Name = "userBias")]
    private readonly Embedding? _userBias;

    /// <summary>Creates the model with N(0, 0.1²) movie (and user) vectors and zero biases.</summary>
    /// <param name="movies">Movies in the public catalogue.</param>
    /// <param name="users">Users, for trained user embeddings; null when user vectors are solved per user.</param>
    /// <param name="dimension">d, the length of the vectors.</param>
    /// <param name="seed">Seeds the initial vectors.</param>
    public RatingModel(int movies, int? users, int dimension, long seed)
        : base("RatingModel")
    {
        Dimension = dimension;
        _movie = nn.Embedding(movies, dimension);
        _movieBias = nn.Embedding(movies, 1);
        _global = nn.Embedding(1, 1);
        if (users is { } u)
        {
            _user = nn.Embedding(u, dimension);
            _userBias = nn.Embedding(u, 1);
        }

        RegisterComponents();
        using var generator = new Generator((ulong)seed);
        using (torch.no_grad())
        {
            foreach (var (name, parameter) in named_parameters())
            {
                if (name.EndsWith("ias.weight", StringComparison.Ordinal) || name.StartsWith("global", StringComparison.Ordinal))
                {
                    parameter.zero_();
                }
                else
                {
                    parameter.copy_(torch.randn(parameter.shape, generator: generator) * 0.1);
                }
            }
        }
    }

    /// <summary>Sets every parameter to zero (the movie side then predicts nothing beyond μ₀).</summary>
    public void Zero()
    {
        using var noGrad = torch.no_grad();
        foreach (var parameter in parameters())
        {
            parameter.zero_();
        }
    }

    /// <summary>d.</summary>
    public int Dimension { get; }

    /// <summary>Whether user vectors are trained embeddings (else they are solved per user).</summary>
    public bool HasUserEmbeddings => _user is not null;

    /// <summary>Predictions from given user vectors.</summary>
    /// <param name="movies">Movie indices [n].</param>
    /// <param name="userVectors">(p_u, c_u) of each row's user, [n, d + 1] (no gradient flows into them).</param>
    /// <returns>r̂ [n].</returns>
    public Tensor Predict(Tensor movies, Tensor userVectors)
    {
        var q = _movie.call(movies);
        var p = userVectors.narrow(1, 0, Dimension);
        var c = userVectors.select(1, Dimension);
        return Shared(movies).add(q.mul(p).sum(1)).add(c);
    }

    /// <summary>Predictions from the trained user embeddings.</summary>
    /// <param name="users">User indices [n].</param>
    /// <param name="movies">Movie indices [n].</param>
    /// <returns>r̂ [n].</returns>
    public Tensor PredictWithUserEmbeddings(Tensor users, Tensor movies)
    {
        if (_user is null || _userBias is null)
        {
            throw new InvalidOperationException("This model solves user vectors per user; it has no user embeddings.");
        }

        return Shared(movies).add(_movie.call(movies).mul(_user.call(users)).sum(1)).add(_userBias.call(users).squeeze(1));
    }

    /// <summary>The movie side at the current parameters, without gradients: vectors [M, d], biases [M] and g.</summary>
    public (Tensor Vectors, Tensor Biases, double Global) MovieSide()
    {
        using var noGrad = torch.no_grad();
        return (((Tensor)_movie.weight!).detach(), ((Tensor)_movieBias.weight!).detach().squeeze(1), ((Tensor)_global.weight!).detach().item<float>());
    }

    // μ₀ + g + b_i, shape [n].
    private Tensor Shared(Tensor movies) =>
        _movieBias.call(movies).squeeze(1).add(_global.call(torch.zeros_like(movies)).squeeze(1)).add(Offset);
}

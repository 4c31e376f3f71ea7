using TorchSharp;
using static TorchSharp.torch;

namespace DiffPriv.Experiments.UserLevel;

/// <summary>
/// Each user's vector and bias (p_u, c_u) from that user's own ratings and the current movie model: the ridge regression
/// (p_u, c_u) = argmin Σ_{i rated by u} (r_ui − μ₀ − g − b_i − q_iᵀp_u − c_u)² + λ(‖p_u‖² + c_u²), solved exactly (one
/// (d+1)×(d+1) system per user). It uses nothing of any other user, which is what makes it usable inside user-level DP-SGD
/// (a user's record stays a function of that user's data and the released model) and at prediction time (each user
/// computes their own vector from the released movie model, as in the "billboard" model of joint differential privacy).
/// </summary>
internal static class UserVectors
{
    /// <summary>Solves (p_u, c_u) for every user that has rows.</summary>
    /// <param name="model">The movie model (read, not changed).</param>
    /// <param name="users">User index of each rating [n].</param>
    /// <param name="movies">Movie index of each rating [n].</param>
    /// <param name="ratings">The ratings [n].</param>
    /// <param name="ridge">λ &gt; 0.</param>
    /// <param name="userCount">U: the table has one row per user (zeros for users without rows).</param>
    /// <returns>[U, d + 1], no gradient.</returns>
    public static Tensor Solve(RatingModel model, Tensor users, Tensor movies, Tensor ratings, double ridge, long userCount)
    {
        using var noGrad = torch.no_grad();
        var d = model.Dimension;
        var table = torch.zeros(userCount, d + 1);
        if (users.shape[0] == 0)
        {
            return table;
        }

        using var scope = torch.NewDisposeScope();
        var (vectors, biases, global) = model.MovieSide();
        var x = torch.cat([vectors.index_select(0, movies), torch.ones(movies.shape[0], 1)], 1).to(ScalarType.Float64); // [n, d+1]
        var y = ratings.to(ScalarType.Float64).sub(RatingModel.Offset + global).sub(biases.index_select(0, movies).to(ScalarType.Float64));
        var (present, inverse, _) = torch.unique(users, sorted: true, return_inverse: true);
        var s = present.shape[0];
        var gram = torch.zeros(s, d + 1, d + 1, dtype: ScalarType.Float64)
            .index_add_(0, inverse!, x.unsqueeze(2).mul(x.unsqueeze(1)), 1.0)
            .add(torch.eye(d + 1, dtype: ScalarType.Float64).mul(ridge));
        var moments = torch.zeros(s, d + 1, dtype: ScalarType.Float64).index_add_(0, inverse!, x.mul(y.unsqueeze(1)), 1.0);
        var solved = torch.linalg.solve(gram, moments).to(ScalarType.Float32);
        table.index_copy_(0, present, solved);
        return table;
    }
}

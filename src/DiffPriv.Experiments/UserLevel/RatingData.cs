using DiffPriv.Data;
using DiffPriv.Datasets.Ratings;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPriv.Experiments.UserLevel;

/// <summary>
/// Ratings split for the user-level experiment: a seeded share of every user's ratings is held out for testing, so every
/// test user also has training ratings to compute their vector from. Users are numbered 0…U−1 by id; movies 0…M−1 by id
/// over the whole catalogue (every movie of the data set, train or test: the catalogue is public, the ratings are not).
/// </summary>
internal sealed class RatingData : IDisposable
{
    private RatingData(int users, int movies, long[] trainUsers, long[] trainMovies, float[] trainRatings, long[] testUsers, long[] testMovies, float[] testRatings)
    {
        Users = users;
        Movies = movies;
        TrainCount = trainRatings.Length;
        TestCount = testRatings.Length;
        TrainInputs = torch.stack([torch.tensor(trainUsers), torch.tensor(trainMovies)], 1).DetachFromDisposeScope();
        TrainTargets = torch.tensor(trainRatings).DetachFromDisposeScope();
        TestInputs = torch.stack([torch.tensor(testUsers), torch.tensor(testMovies)], 1).DetachFromDisposeScope();
        TestTargets = torch.tensor(testRatings).DetachFromDisposeScope();
        Units = PrivacyUnits.FromKeys(trainUsers, "user");
        var counts = Units.ExampleCounts().Order().ToArray();
        MedianTrainRatings = counts[(counts.Length - 1) / 2];
        MaxTrainRatings = counts[^1];
    }

    /// <summary>U, users (all have training and test ratings).</summary>
    public int Users { get; }

    /// <summary>M, movies in the catalogue.</summary>
    public int Movies { get; }

    /// <summary>Training ratings.</summary>
    public int TrainCount { get; }

    /// <summary>Test ratings.</summary>
    public int TestCount { get; }

    /// <summary>[N, 2] int64: (user, movie) of each training rating, grouped by user.</summary>
    public Tensor TrainInputs { get; }

    /// <summary>[N] float: the training ratings.</summary>
    public Tensor TrainTargets { get; }

    /// <summary>[T, 2] int64: (user, movie) of each test rating.</summary>
    public Tensor TestInputs { get; }

    /// <summary>[T] float: the test ratings.</summary>
    public Tensor TestTargets { get; }

    /// <summary>The user of every training rating: the privacy units of user-level DP-SGD.</summary>
    public PrivacyUnits Units { get; }

    /// <summary>The median number of training ratings of a user (the lower median for an even U).</summary>
    public int MedianTrainRatings { get; }

    /// <summary>The largest number of training ratings of one user.</summary>
    public int MaxTrainRatings { get; }

    /// <summary>Splits <paramref name="ratings"/>.</summary>
    /// <param name="ratings">The ratings; every kept user needs at least 2.</param>
    /// <param name="holdOut">The share of each user's ratings held out, in (0, 1): round(share · k), at least 1 and at most k − 1.</param>
    /// <param name="seed">Seeds which ratings are held out and which users a subset keeps.</param>
    /// <param name="users">Keep a seeded random subset of this many users; null: all.</param>
    public static RatingData Split(IReadOnlyList<MovieRating> ratings, double holdOut, long seed, int? users)
    {
        var movieIds = ratings.Select(r => r.MovieId).Distinct().Order().ToArray();
        var movieIndex = movieIds.Select((id, i) => (id, i)).ToDictionary(p => p.id, p => (long)p.i);
        var byUser = ratings.GroupBy(r => r.UserId).OrderBy(g => g.Key).Select(g => g.ToArray()).ToList();

        // Which users and which ratings an experiment holds out is not a secret: System.Random, seeded.
#pragma warning disable CA5394
        var random = new Random((int)(seed & 0x7fffffff));
        if (users is { } keep && keep < byUser.Count)
        {
            var order = Enumerable.Range(0, byUser.Count).ToArray();
            random.Shuffle(order);
            byUser = [.. order.Take(keep).Order().Select(i => byUser[i])];
        }

        var (trainUsers, trainMovies, trainRatings) = (new List<long>(), new List<long>(), new List<float>());
        var (testUsers, testMovies, testRatings) = (new List<long>(), new List<long>(), new List<float>());
        for (var u = 0; u < byUser.Count; u++)
        {
            var own = byUser[u];
            if (own.Length < 2)
            {
                throw new ArgumentException($"User {own[0].UserId} has {own.Length} rating; every user needs at least 2 (one to train on, one to test).", nameof(ratings));
            }

            var order = Enumerable.Range(0, own.Length).ToArray();
            random.Shuffle(order);
            var test = Math.Clamp((int)Math.Round(holdOut * own.Length, MidpointRounding.AwayFromZero), 1, own.Length - 1);
            var held = order.Take(test).ToHashSet();
            for (var i = 0; i < own.Length; i++)
            {
                var (userList, movieList, ratingList) = held.Contains(i) ? (testUsers, testMovies, testRatings) : (trainUsers, trainMovies, trainRatings);
                userList.Add(u);
                movieList.Add(movieIndex[own[i].MovieId]);
                ratingList.Add((float)own[i].Rating);
            }
        }
#pragma warning restore CA5394

        return new RatingData(byUser.Count, movieIds.Length, [.. trainUsers], [.. trainMovies], [.. trainRatings], [.. testUsers], [.. testMovies], [.. testRatings]);
    }

    /// <summary>Test RMSE of a model whose user vectors are solved from each user's training ratings; predictions clipped to the 0.5–5 scale.</summary>
    /// <param name="model">The movie model.</param>
    /// <param name="ridge">λ of the user solve.</param>
    /// <returns>The root mean squared error on the test ratings.</returns>
    public double TestRmse(RatingModel model, double ridge)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var vectors = UserVectors.Solve(model, TrainInputs.select(1, 0), TrainInputs.select(1, 1), TrainTargets, ridge, Users);
        var users = TestInputs.select(1, 0);
        var predicted = model.Predict(TestInputs.select(1, 1), vectors.index_select(0, users)).clamp(0.5, 5.0);
        return predicted.sub(TestTargets).square().mean().sqrt().item<float>();
    }

    public void Dispose()
    {
        TrainInputs.Dispose();
        TrainTargets.Dispose();
        TestInputs.Dispose();
        TestTargets.Dispose();
    }
}

namespace DiffPriv.Datasets.Ratings;

/// <summary>One rating of a movie by a user.</summary>
/// <param name="UserId">The user (MovieLens <c>userId</c>, from 1).</param>
/// <param name="MovieId">The movie (MovieLens <c>movieId</c>).</param>
/// <param name="Rating">Stars, 0.5 to 5 in steps of 0.5.</param>
/// <param name="Timestamp">When it was given, seconds since 1970-01-01 UTC.</param>
public sealed record MovieRating(int UserId, int MovieId, double Rating, long Timestamp);

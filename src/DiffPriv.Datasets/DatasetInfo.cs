namespace DiffPriv.Datasets;

/// <summary>Where a data set comes from, its files with their pinned SHA-256, and its fixed normalisation constants.</summary>
/// <param name="Name">The data set.</param>
/// <param name="Id">Its command-line name and cache folder (<c>mnist</c>, <c>fashion-mnist</c>).</param>
/// <param name="Source">The package it is fetched from.</param>
/// <param name="TrainImages">Train image file name in the cache folder.</param>
/// <param name="TrainLabels">Train label file name.</param>
/// <param name="TestImages">Test image file name.</param>
/// <param name="TestLabels">Test label file name.</param>
/// <param name="Sha256">File name → lowercase hex SHA-256 of the file as stored in the cache.</param>
/// <param name="Mean">Public normalisation mean of pixels in [0, 1] (a published constant, not computed from private data).</param>
/// <param name="Std">Public normalisation standard deviation.</param>
public sealed record DatasetInfo(
    DatasetName Name,
    string Id,
    string Source,
    string TrainImages,
    string TrainLabels,
    string TestImages,
    string TestLabels,
    IReadOnlyDictionary<string, string> Sha256,
    double Mean,
    double Std);

namespace DiffPriv.Datasets;

/// <summary>The contents of an IDX image file: <see cref="Count"/> images of <see cref="Rows"/>×<see cref="Columns"/> bytes.</summary>
/// <param name="Pixels">Count·Rows·Columns raw pixel bytes (0..255), image after image, row-major.</param>
/// <param name="Count">Number of images.</param>
/// <param name="Rows">Image height.</param>
/// <param name="Columns">Image width.</param>
public sealed record IdxImages(byte[] Pixels, int Count, int Rows, int Columns);

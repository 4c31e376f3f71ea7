namespace DiffPriv.Datasets;

/// <summary>The image data sets DiffPriv can fetch and load.</summary>
public enum DatasetName
{
    /// <summary>MNIST handwritten digits (LeCun, Cortes, Burges): 60 000 train / 10 000 test, 28×28, 10 classes.</summary>
    Mnist,

    /// <summary>Fashion-MNIST (Zalando, MIT licence): 60 000 train / 10 000 test, 28×28, 10 classes.</summary>
    FashionMnist,
}

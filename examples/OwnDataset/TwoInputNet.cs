using TorchSharp.Modules;
using static TorchSharp.torch;

namespace OwnDataset;

/// <summary>A model with two inputs: a small convolutional branch for the image and a linear branch for the side features.</summary>
internal sealed class TwoInputNet : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly Conv2d _conv = nn.Conv2d(1, 8, 3, stride: 2);
    private readonly Linear _image = nn.Linear(8 * 5 * 5, 16);
    private readonly Linear _side = nn.Linear(SyntheticRecords.SideFeatures, 8);
    private readonly Linear _head = nn.Linear(24, SyntheticRecords.Classes);

    public TwoInputNet()
        : base(nameof(TwoInputNet))
    {
        RegisterComponents();
    }

    public override Tensor forward(Tensor image, Tensor side)
    {
        var imageFeatures = _image.call(_conv.call(image).tanh().flatten(1)).tanh();
        var sideFeatures = _side.call(side).tanh();
        return _head.call(cat([imageFeatures, sideFeatures], 1));
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _conv.Dispose();
            _image.Dispose();
            _side.Dispose();
            _head.Dispose();
        }

        base.Dispose(disposing);
    }
}

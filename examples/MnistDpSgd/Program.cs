// Private MNIST in a few lines: load data, build a TorchSharp model, make it private, train, print ε.
// Run from the repository: dotnet run --project examples/MnistDpSgd (fetches MNIST into the per-user data cache on first use).
using DiffPriv;
using DiffPriv.Datasets;
using static TorchSharp.torch;

using var data = ImageDatasets.Load(DatasetName.Mnist);
var model = nn.Sequential(
    nn.Conv2d(1, 16, 8, stride: 2, padding: 3), nn.Tanh(), nn.MaxPool2d(2, stride: 1),
    nn.Conv2d(16, 32, 4, stride: 2), nn.Tanh(), nn.MaxPool2d(2, stride: 1),
    nn.Flatten(), nn.Linear(512, 32), nn.Tanh(), nn.Linear(32, 10));

var engine = new PrivacyEngine();
using var training = engine.MakePrivate(
    model, optim.SGD(model.parameters(), 0.5), data.TrainInputs, data.TrainTargets,
    new DpSgdOptions { MaxGradNorm = 1.0, NoiseMultiplier = 1.1, ExpectedBatchSize = 256, Epochs = 3 }); // plan: ⌈3·N/B⌉ steps
var (optimizer, loader) = training;

// The planned epochs (the last one shortened to the steps left); a step beyond the plan would throw.
for (var epoch = 1; epoch <= 3; epoch++)
{
    model.train();
    foreach (var batch in loader)                                 // Poisson-sampled batches: "data" and "label"
    {
        using var scope = NewDisposeScope();
        optimizer.zero_grad();
        var loss = nn.functional.cross_entropy(model.call(batch["data"]), batch["label"], reduction: nn.Reduction.None); // one loss per example
        optimizer.Backward(loss);                                 // clip each example's gradient, sum
        optimizer.step();                                         // add noise, record the step, update
    }

    using (no_grad())
    {
        using var scope = NewDisposeScope();
        model.eval();
        var accuracy = model.call(data.TestInputs).argmax(1).eq(data.TestTargets).to_type(ScalarType.Float32).mean().item<float>();
        Console.WriteLine($"epoch {epoch}: test accuracy {accuracy:P2}, ε = {engine.GetEpsilon(1e-5):F3} at δ = 1e-5");
    }
}

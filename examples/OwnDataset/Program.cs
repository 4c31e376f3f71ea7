// Private training over your own data set, model and loop: a lazily read data set on disk, a model with two inputs,
// and an ordinary TorchSharp loop made private in three lines (PrivateLoop.cs against PlainLoop.cs).
// Run from the repository: dotnet run --project examples/OwnDataset -c Release -- [--json] [--plain] [--data FILE]
using System.Globalization;
using System.Text.Json.Nodes;
using DiffPriv;
using DiffPriv.Accounting;
using OwnDataset;
using TorchSharp;
using static TorchSharp.torch;

const int TrainSize = 10_000;
const int TestSize = 2_000;
const int BatchSize = 300; // N/B = 33.3: 34 steps per epoch, and 3 epochs are ⌈100⌉ = 100 steps, not 3 × 34 = 102
const int Epochs = 3;
const double TargetEpsilon = 2.0;
const double Delta = 1e-5;

var json = args.Contains("--json");
var plain = args.Contains("--plain");
var dataIndex = Array.IndexOf(args, "--data");
var dataPath = dataIndex >= 0 && dataIndex + 1 < args.Length
    ? args[dataIndex + 1]
    : Path.Combine(Path.GetTempPath(), "diffpriv-examples", "own-dataset.bin");

// The data are made offline, once, and read lazily: only the examples Poisson sampling draws are read.
using var records = SyntheticRecords.CreateOrOpen(dataPath, TrainSize + TestSize, seed: 7);
var train = records.Slice(0, TrainSize);
var test = records.Slice(TrainSize, TestSize);

torch.manual_seed(1);
using var model = new TwoInputNet();
var engine = new PrivacyEngine();
var run = new RunSettings(
    Epochs,
    BatchSize,
    LearningRate: 0.5,
    engine,
    new DpSgdOptions { MaxGradNorm = 1.0, ExpectedBatchSize = BatchSize },
    TargetEpsilon,
    Delta,
    EndOfEpoch: epoch =>
    {
        if (!json)
        {
            var spent = plain ? "no privacy" : $"ε = {engine.GetEpsilon(Delta):F3} at δ = {Delta:G}";
            Console.WriteLine($"epoch {epoch + 1}: test accuracy {Accuracy(model, test):P2}, {spent}, records read so far {records.Reads}");
        }
    });

if (plain)
{
    PlainLoop.Train(model, train, run);
    return;
}

PrivateLoop.Train(model, train, run);

// The plan uses the same rule as the engine and `diffpriv epsilon`; the steps run and ε come from the ledger.
var planned = StepSchedule.FromEpochs(TrainSize, BatchSize, Epochs).TotalSteps;
var stepsRun = engine.Ledger.TotalCount;
var epsilon = engine.GetEpsilon(Delta);
Console.WriteLine($"test accuracy {Accuracy(model, test).ToString("P2", CultureInfo.InvariantCulture)}; {stepsRun} of {planned} planned steps; ε = {epsilon:F4} (target {TargetEpsilon}) at δ = {Delta:G}");
if (json)
{
    Console.WriteLine(new JsonObject
    {
        ["steps_run"] = stepsRun,
        ["steps_planned"] = planned,
        ["epsilon"] = epsilon,
        ["target_epsilon"] = TargetEpsilon,
        ["delta"] = Delta,
    }.ToJsonString());
}

static double Accuracy(TwoInputNet model, utils.data.Dataset test)
{
    using var noGrad = no_grad();
    model.eval();
    long correct = 0, seen = 0;
    using var loader = utils.data.DataLoader(test, 500, disposeDataset: false);
    foreach (var batch in loader)
    {
        using var scope = NewDisposeScope();
        correct += model.call(batch["image"], batch["side"]).argmax(1).eq(batch["label"]).sum().item<long>();
        seen += batch["label"].shape[0];
    }

    model.train();
    return (double)correct / seen;
}

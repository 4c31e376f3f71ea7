using System.Security.Cryptography;
using DiffPriv.Accounting.Events;
using DiffPriv.Data;
using DiffPriv.Queries;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPriv.Parallel;

/// <summary>
/// Data-parallel DP-SGD for a <see cref="PrivateTraining"/> made the usual way on every rank, over a process group
/// (MPI: <c>DiffPriv.Distributed</c>'s <c>MpiWorld</c>). After
/// <see cref="Attach"/>, each step's logical batch is the one a single process would draw (rank 0 samples it with its
/// generator and sends it), split among the ranks in contiguous parts; every rank clips its part with the ordinary
/// engine; the clipped sums are added on rank 0, which adds the noise once (its noise gate: the secure generator unless
/// seeded) and sends the noised sum and the step's event to every rank; every rank applies the same update and records
/// the same event, so all ledgers equal rank 0's. The training loop itself is unchanged.
/// </summary>
/// <remarks>
/// <para>Trust model: every rank is trusted. Ranks hold their share of the training data and see their own clipped sums,
/// and rank 0 sees the global clipped sum before the noise; no rank but rank 0 sees the global sum unnoised. Against
/// untrusted workers the noise would have to be split among ranks so that no coalition short of all of them could remove
/// it; that is not implemented.</para>
/// <para>A rank that fails must end the job (<see cref="IProcessGroup.Abort"/>); the others would otherwise wait for it in the
/// next collective call. A rank killed from outside ends the job through the launcher.</para>
/// </remarks>
public sealed class DataParallelTraining
{
    private readonly Distributor _distributor;
    private readonly Coordinator _coordinator;

    private DataParallelTraining(PrivateTraining training, IProcessGroup world)
    {
        Training = training;
        World = world;
        _distributor = new Distributor(world);
        _coordinator = new Coordinator(world);
    }

    /// <summary>The training run on this rank.</summary>
    public PrivateTraining Training { get; }

    /// <summary>The processes of the job.</summary>
    public IProcessGroup World { get; }

    /// <summary>
    /// The time this rank spent in the steps' collective calls: sending the batch, adding the sums on rank 0 and sending the release
    /// back. It includes waiting for slower ranks, so it measures what data parallelism costs beyond the computation.
    /// </summary>
    public TimeSpan CommunicationTime => _distributor.Time + _coordinator.Time;

    /// <summary>How many examples this rank has computed gradients for (private: for local diagnostics only).</summary>
    public long ExamplesProcessed => _distributor.Examples;

    /// <summary>
    /// Makes <paramref name="training"/> one rank of a data-parallel job: the model's parameters and buffers are replaced by
    /// rank 0's, and its loader and optimizer are linked to the world. Call it on every rank, before the first batch is
    /// drawn, with trainings built the same way (the same data, model, options and plan).
    /// </summary>
    /// <param name="training">The private training of this rank.</param>
    /// <param name="world">The processes of the job (e.g. <c>MpiWorld.Detect()</c>).</param>
    /// <returns>The data-parallel training.</returns>
    /// <exception cref="NotSupportedException">The training uses what data-parallel steps do not support yet: a query with
    /// a global state (adaptive clipping, canaries), privacy units or microbatches.</exception>
    /// <exception cref="InvalidOperationException">The training already took a step or drew a batch, or is already attached.</exception>
    public static DataParallelTraining Attach(PrivateTraining training, IProcessGroup world)
    {
        ArgumentNullException.ThrowIfNull(training);
        ArgumentNullException.ThrowIfNull(world);
        if (training.Optimizer.Query is not GaussianSumQuery)
        {
            throw new NotSupportedException(
                $"Data-parallel training supports the Gaussian sum query of plain DP-SGD (flat, per-layer or automatic clipping); " +
                $"{training.Optimizer.Query.GetType().Name} keeps a global state that is not shared between ranks yet.");
        }

        if (training.Loader.PrivacyUnits is not null || training.Optimizer.Microbatches > 0)
        {
            throw new NotSupportedException("Data-parallel training does not support privacy units or microbatches yet.");
        }

        if (training.Loader.Distributor is not null || training.Optimizer.Coordinator is not null)
        {
            throw new InvalidOperationException("This training is already attached to a process group.");
        }

        if (training.Loader.BatchesDrawn > 0 || training.Optimizer.Steps > 0)
        {
            throw new InvalidOperationException("Attach the training to the process group before it draws its first batch.");
        }

        var result = new DataParallelTraining(training, world);
        BroadcastModel(training.Model, world);
        training.Loader.Distributor = result._distributor;
        training.Optimizer.Coordinator = result._coordinator;
        return result;
    }

    /// <summary>How many examples each rank has computed so far (a collective call: every rank must make it).</summary>
    /// <returns>Examples per rank, indexed by rank.</returns>
    public long[] ExamplesPerRank()
    {
        var counts = new long[World.Size];
        counts[World.Rank] = ExamplesProcessed;
        World.AllReduceSum(counts);
        return counts;
    }

    /// <summary>
    /// Checks that every rank holds the same parameters and buffers (a SHA-256 of their bytes compared across ranks; a
    /// collective call). Ranks that drift apart would train different models under one ledger.
    /// </summary>
    /// <exception cref="InvalidOperationException">The ranks' parameters differ.</exception>
    public void CheckParametersIdentical()
    {
        var digest = ModelDigest(Training.Model);
        var words = new long[4];
        for (var i = 0; i < 4; i++)
        {
            words[i] = BitConverter.ToInt64(digest, 8 * i);
        }

        var (min, max) = World.AllReduceMinMax(words);
        if (!min.SequenceEqual(max))
        {
            throw new InvalidOperationException(
                $"The ranks' parameters differ (rank {World.Rank}'s digest {Convert.ToHexString(digest)[..16]}…): the data-parallel " +
                "job no longer trains one model. This is a bug or a rank with different code or data; the run cannot be reported.");
        }
    }

    /// <summary>SHA-256 of a model's parameters and buffers, in the order of their names.</summary>
    internal static byte[] ModelDigest(nn.Module model)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (name, tensor) in State(model))
        {
            using var cpu = tensor.detach().cpu().contiguous();
            sha.AppendData(System.Text.Encoding.UTF8.GetBytes(name));
            sha.AppendData(cpu.bytes);
        }

        return sha.GetHashAndReset();
    }

    private static IEnumerable<(string Name, Tensor Tensor)> State(nn.Module model) =>
        model.named_parameters().Select(p => (p.name, (Tensor)p.parameter))
            .Concat(model.named_buffers().Select(b => (b.name, b.buffer)))
            .OrderBy(s => s.Item1, StringComparer.Ordinal);

    private static void BroadcastModel(nn.Module model, IProcessGroup world)
    {
        using var noGrad = torch.no_grad();
        foreach (var (_, tensor) in State(model))
        {
            using var cpu = tensor.detach().cpu().contiguous().clone();
            world.Broadcast(cpu);
            tensor.copy_(cpu);
        }
    }

    /// <summary>Rank 0 draws each batch and sends it; every rank keeps its contiguous part.</summary>
    private sealed class Distributor(IProcessGroup world) : IBatchDistributor
    {
        public long Examples { get; private set; }

        public TimeSpan Time { get; private set; }

        public long[] Share(Func<long[]> draw)
        {
            long[] all;
            var start = System.Diagnostics.Stopwatch.GetTimestamp();
            if (world.Rank == 0)
            {
                all = draw();
                start = System.Diagnostics.Stopwatch.GetTimestamp();
                BroadcastIndices(all);
            }
            else
            {
                all = BroadcastIndices([]);
            }

            Time += System.Diagnostics.Stopwatch.GetElapsedTime(start);
            var (first, end) = Part(all.LongLength, world.Rank, world.Size);
            Examples += end - first;
            return all[(int)first..(int)end];
        }

        private long[] BroadcastIndices(long[] indices)
        {
            var bytes = world.Broadcast(System.Runtime.InteropServices.MemoryMarshal.AsBytes(indices.AsSpan()).ToArray());
            return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(bytes).ToArray();
        }
    }

    /// <summary>Rank r's part [start, end) of n items split among <paramref name="size"/> ranks in contiguous, nearly equal parts.</summary>
    internal static (long Start, long End) Part(long n, int rank, int size) => (n * rank / size, n * (rank + 1) / size);

    /// <summary>Adds the ranks' clipped sums on rank 0, releases there once, and gives every rank the release.</summary>
    private sealed class Coordinator(IProcessGroup world) : IReleaseCoordinator
    {
        private (List<string> Names, ScalarType Type)? _layout;

        public TimeSpan Time { get; private set; }

        private static (List<string> Names, ScalarType Type) Layout(IReadOnlyDictionary<string, (long[] Shape, ScalarType Type, Device Device)> shapes)
        {
            var names = shapes.Keys.OrderBy(n => n, StringComparer.Ordinal).ToList();
            var type = shapes[names[0]].Type;
            if (names.Any(n => shapes[n].Type != type))
            {
                throw new NotSupportedException("Data-parallel training needs every trainable parameter of one floating-point type.");
            }

            return (names, type);
        }

        public DpQueryRelease Release(
            DpQueryState local,
            IReadOnlyDictionary<string, (long[] Shape, ScalarType Type, Device Device)> shapes,
            Func<DpQueryState, DpQueryRelease> release)
        {
            // The parameters' order and type are the optimizer's, fixed for the run: worked out at the first step.
            var (names, type) = _layout ??= Layout(shapes);

            using var sum = Flatten(names, name => local.Sums.TryGetValue(name, out var s) ? s : null, shapes, type);
            var start = System.Diagnostics.Stopwatch.GetTimestamp();
            world.ReduceSumToRoot(sum);
            var records = new long[] { local.RecordCount };
            using (var count = torch.tensor(records))
            {
                world.ReduceSumToRoot(count);
                records[0] = count.item<long>();
            }

            Time += System.Diagnostics.Stopwatch.GetElapsedTime(start);

            Tensor noised;
            var eventJson = Array.Empty<byte>();
            if (world.Rank == 0)
            {
                DpQueryRelease released;
                try
                {
                    using var global = new DpQueryState();
                    global.Add(Unflatten(sum, names, shapes), records[0]);
                    released = release(global);
                    if (released.GlobalState is not null)
                    {
                        throw new NotSupportedException("A query with a global state cannot be shared between ranks yet.");
                    }
                }
                catch (Exception e)
                {
                    // The other ranks wait for this release: end the job rather than leave them waiting or half-updated.
                    world.Abort($"the release of the noised sum failed: {e.Message}");
                    throw; // not reached
                }

                noised = Flatten(names, name => released.NoisedSum[name], shapes, type);
                if (released.Event is { } dpEvent)
                {
                    eventJson = System.Text.Encoding.UTF8.GetBytes(DpEventJson.Serialize(dpEvent));
                }
            }
            else
            {
                noised = torch.empty(sum.shape[0], type);
            }

            start = System.Diagnostics.Stopwatch.GetTimestamp();
            world.Broadcast(noised);
            eventJson = world.Broadcast(eventJson);
            Time += System.Diagnostics.Stopwatch.GetElapsedTime(start);
            var stepEvent = eventJson.Length == 0 ? null : DpEventJson.Deserialize(System.Text.Encoding.UTF8.GetString(eventJson));
            return new DpQueryRelease(Unflatten(noised, names, shapes), null, stepEvent);
        }

        private static Tensor Flatten(
            List<string> names,
            Func<string, Tensor?> value,
            IReadOnlyDictionary<string, (long[] Shape, ScalarType Type, Device Device)> shapes,
            ScalarType type)
        {
            using var scope = torch.NewDisposeScope();
            var parts = names.Select(name => value(name) is { } t
                    ? t.detach().reshape(-1).to(type, torch.CPU)
                    : torch.zeros(shapes[name].Shape.Aggregate(1L, (a, b) => a * b), type))
                .ToList();
            return torch.cat(parts, 0).contiguous().MoveToOuterDisposeScope();
        }

        private static Dictionary<string, Tensor> Unflatten(
            Tensor flat,
            List<string> names,
            IReadOnlyDictionary<string, (long[] Shape, ScalarType Type, Device Device)> shapes)
        {
            var result = new Dictionary<string, Tensor>(names.Count);
            long at = 0;
            foreach (var name in names)
            {
                var (shape, _, device) = shapes[name];
                var numel = shape.Aggregate(1L, (a, b) => a * b);
                // Views of the flat buffer (they keep its storage alive): the global state copies them, the optimizer divides them.
                result[name] = flat.narrow(0, at, numel).reshape(shape).to(device);
                at += numel;
            }

            return result;
        }
    }
}

namespace DiffPriv.Experiments.Training;

/// <summary>Learning-rate schedules: the rate at a step, and setting it on an optimizer.</summary>
public static class LrSchedules
{
    /// <summary>The learning rate at step <paramref name="step"/> (0-based) of <paramref name="totalSteps"/>.</summary>
    /// <param name="schedule">The schedule.</param>
    /// <param name="learningRate">The rate at step 0.</param>
    /// <param name="step">The step, 0-based.</param>
    /// <param name="totalSteps">Steps of the whole run.</param>
    /// <returns>The rate (a public function of the step: it costs no privacy).</returns>
    public static double At(LrSchedule schedule, double learningRate, long step, long totalSteps) => schedule switch
    {
        LrSchedule.Cosine => learningRate * 0.5 * (1 + Math.Cos(Math.PI * step / Math.Max(1, totalSteps))),
        _ => learningRate,
    };

    /// <summary>Sets the learning rate of every parameter group of <paramref name="optimizer"/>.</summary>
    /// <param name="optimizer">The optimizer.</param>
    /// <param name="learningRate">The new rate.</param>
    public static void Set(TorchSharp.torch.optim.Optimizer optimizer, double learningRate)
    {
        foreach (var group in optimizer.ParamGroups)
        {
            group.LearningRate = learningRate;
        }
    }

    /// <summary>How a report names the schedule.</summary>
    /// <param name="schedule">The schedule.</param>
    /// <returns>A short description.</returns>
    public static string Describe(LrSchedule schedule) => schedule == LrSchedule.Cosine ? "cosine decay to 0 over the run" : "constant";
}

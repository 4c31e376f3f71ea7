namespace DiffPriv.Queries;

/// <summary>
/// A white-box gradient canary: the record C·e_j, zero everywhere except one coordinate of one parameter, where it equals
/// the clip norm C (a Dirac canary). Its clipped gradient is itself, so the DP sum sees it exactly.
/// </summary>
/// <param name="Parameter">The parameter's name, as in <c>model.named_parameters()</c> (e.g. <c>fc1.weight</c>).</param>
/// <param name="Index">The coordinate in the parameter's flattened (row-major) view, in [0, numel).</param>
public sealed record GradientCanary(string Parameter, long Index);

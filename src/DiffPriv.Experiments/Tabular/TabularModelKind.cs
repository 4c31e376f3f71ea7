namespace DiffPriv.Experiments.Tabular;

/// <summary>The classifier <c>diffpriv train csv</c> trains with DP-SGD.</summary>
public enum TabularModelKind
{
    /// <summary>Multinomial logistic regression: one linear layer from the encoded features to the class logits.</summary>
    Logistic,

    /// <summary>A multilayer perceptron: linear, tanh, linear (hidden width <see cref="TabularTrainSettings.HiddenUnits"/>).</summary>
    Mlp,
}

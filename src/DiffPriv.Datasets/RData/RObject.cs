namespace DiffPriv.Datasets.RData;

/// <summary>
/// An R value read by <see cref="RSerialization"/>, kept close to R's own layout: a type, the payload for that type, and
/// the attributes (<c>names</c>, <c>class</c>, <c>levels</c>, <c>row.names</c>, …). Pairlists are flattened into
/// <see cref="Elements"/> with their <see cref="Tags"/>.
/// </summary>
internal sealed class RObject
{
    /// <summary>R's <c>NULL</c>.</summary>
    public static readonly RObject Null = new(RType.Null);

    public RObject(RType type) => Type = type;

    public RType Type { get; }

    /// <summary>Character vectors (NA is null); a symbol's or a CHARSXP's one string.</summary>
    public string?[] Strings { get; init; } = [];

    /// <summary>Logical and integer vectors (NA is <see cref="int.MinValue"/>).</summary>
    public int[] Integers { get; init; } = [];

    /// <summary>Double vectors; complex vectors as (re, im) pairs.</summary>
    public double[] Doubles { get; init; } = [];

    /// <summary>Raw vectors.</summary>
    public byte[] Bytes { get; init; } = [];

    /// <summary>List and expression elements; the values of a pairlist, language object or closure.</summary>
    public RObject[] Elements { get; init; } = [];

    /// <summary>The tags of a pairlist's values (null where a value has none); empty for other types.</summary>
    public string?[] Tags { get; init; } = [];

    /// <summary>The attributes in the order R stored them.</summary>
    public IReadOnlyList<KeyValuePair<string, RObject>> Attributes { get; set; } = [];

    /// <summary>The number of elements R's <c>length()</c> would report for a vector.</summary>
    public int Length => Type switch
    {
        RType.Character => Strings.Length,
        RType.Logical or RType.Integer => Integers.Length,
        RType.Double => Doubles.Length,
        RType.Complex => Doubles.Length / 2,
        RType.Raw => Bytes.Length,
        RType.Null => 0,
        _ => Elements.Length,
    };

    /// <summary>The value of an attribute, or null when it is absent.</summary>
    public RObject? Attribute(string name) => Attributes.FirstOrDefault(a => a.Key == name).Value;

    /// <summary>The <c>names</c> attribute (for a pairlist: its tags), or null.</summary>
    public IReadOnlyList<string?>? Names => Attribute("names") is { Type: RType.Character } names ? names.Strings
        : Type == RType.Pairlist && Tags.Length > 0 ? Tags : null;

    /// <summary>The <c>class</c> attribute, or empty.</summary>
    public IReadOnlyList<string?> Classes => Attribute("class") is { Type: RType.Character } classes ? classes.Strings : [];

    /// <summary>Whether the class attribute lists <paramref name="className"/> (R's <c>inherits</c>).</summary>
    public bool Inherits(string className) => Classes.Contains(className);

    /// <summary>The element with the given name (from <see cref="Names"/>), or null.</summary>
    public RObject? Element(string name)
    {
        var names = Names;
        if (names is null)
        {
            return null;
        }

        for (var i = 0; i < names.Count && i < Elements.Length; i++)
        {
            if (names[i] == name)
            {
                return Elements[i];
            }
        }

        return null;
    }

    /// <summary>R's description of the value for error messages, e.g. "an integer vector of class factor".</summary>
    public string Describe()
    {
        var what = Type switch
        {
            RType.Null => "NULL",
            RType.Character => "a character vector",
            RType.Integer => "an integer vector",
            RType.Logical => "a logical vector",
            RType.Double => "a double vector",
            RType.Complex => "a complex vector",
            RType.Raw => "a raw vector",
            RType.List => "a list",
            RType.Pairlist => "a pairlist",
            RType.Closure => "a function",
            RType.Environment => "an environment",
            _ => $"an object of type {Type}",
        };
        return Classes.Count > 0 ? $"{what} of class {string.Join("/", Classes)}" : what;
    }

    /// <summary>
    /// The strings of a character vector, or the labels of a factor (an integer vector of class <c>factor</c> with
    /// <c>levels</c>); NA is null.
    /// </summary>
    /// <param name="source">The file, for error messages.</param>
    /// <param name="what">The value's name, for error messages.</param>
    /// <exception cref="DataFormatException">The value is neither, or a factor code is out of range.</exception>
    public IReadOnlyList<string?> AsCharacter(string source, string what)
    {
        if (Type == RType.Character)
        {
            return Strings;
        }

        if (Type == RType.Integer && Inherits("factor") && Attribute("levels") is { Type: RType.Character } levels)
        {
            var labels = new string?[Integers.Length];
            for (var i = 0; i < labels.Length; i++)
            {
                var code = Integers[i];
                if (code == int.MinValue)
                {
                    continue;
                }

                if (code < 1 || code > levels.Strings.Length)
                {
                    throw new DataFormatException(source, $"{what}: factor code {code} at position {i + 1} is outside its {levels.Strings.Length} levels");
                }

                labels[i] = levels.Strings[code - 1];
            }

            return labels;
        }

        throw new DataFormatException(source, $"{what} is {Describe()}, not a character vector or factor");
    }

    /// <summary>The value as a data frame: a list of class <c>data.frame</c> whose columns all have the row count.</summary>
    /// <param name="source">The file, for error messages.</param>
    /// <param name="what">The value's name, for error messages.</param>
    /// <exception cref="DataFormatException">The value is not a well-formed data frame.</exception>
    public RDataFrame AsDataFrame(string source, string what)
    {
        if (Type != RType.List || !Inherits("data.frame"))
        {
            throw new DataFormatException(source, $"{what} is {Describe()}, not a data frame");
        }

        var names = Names;
        if (names is null || names.Count != Elements.Length || names.Any(n => n is null))
        {
            throw new DataFormatException(source, $"{what}: the data frame's columns are not all named");
        }

        // row.names is either a character or integer vector, or R's compact form c(NA, -n) (or c(NA, n)).
        var rowNames = Attribute("row.names");
        var rows = rowNames switch
        {
            { Type: RType.Integer, Integers: [int.MinValue, var n] } => Math.Abs(n),
            { Type: RType.Integer or RType.Character or RType.Double } r => r.Length,
            null when Elements.Length > 0 => Elements[0].Length,
            null => 0,
            _ => throw new DataFormatException(source, $"{what}: the data frame's row.names is {rowNames.Describe()}"),
        };
        for (var c = 0; c < Elements.Length; c++)
        {
            if (Elements[c].Length != rows)
            {
                throw new DataFormatException(source, $"{what}: column '{names[c]}' has {Elements[c].Length} values, the data frame has {rows} rows");
            }
        }

        return new RDataFrame([.. names.Select(n => n!)], rows, Elements);
    }
}

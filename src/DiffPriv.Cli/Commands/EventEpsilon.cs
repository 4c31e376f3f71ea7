using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using DiffPriv.Accounting;
using DiffPriv.Accounting.Events;
using DiffPriv.Experiments.Reports;

namespace DiffPriv.Cli.Commands;

/// <summary><c>diffpriv epsilon --event FILE</c>: the guarantee of any mechanism given as an event tree.</summary>
internal static class EventEpsilon
{
    private static readonly (string Name, NeighboringRelation Relation)[] Relations =
    [
        ("add-or-remove-one", NeighboringRelation.AddOrRemoveOne),
        ("replace-one", NeighboringRelation.ReplaceOne),
        ("replace-special", NeighboringRelation.ReplaceSpecial),
    ];

    public static int Run(ParseResult result, string path, Option<string?> relationOption, AccountingOptions options, IEnumerable<Option> runOptions, TextWriter stdout)
    {
        foreach (var option in runOptions)
        {
            if (AccountingOptions.Given(result, option))
            {
                throw new UsageException($"{option.Name} cannot be combined with --event: the event file describes the whole mechanism");
            }
        }

        var delta = result.GetValue(options.Delta);
        AccountingOptions.CheckDelta(delta);
        var relation = ParseRelation(result.GetValue(relationOption));
        var accountants = !AccountingOptions.Given(result, options.Accountant)
            ? EventAccounting.AllAccountants
            : AccountingOptions.ParseAccountant(result.GetValue(options.Accountant) ?? "", allowAll: true) switch
            {
                AccountantChoice.Pld => [AccountantKind.Pld],
                AccountantChoice.Rdp => [AccountantKind.Rdp],
                _ => EventAccounting.AllAccountants,
            };

        var dpEvent = Read(path);
        var evaluation = EventAccounting.Evaluate(dpEvent, relation, accountants, delta);
        if (evaluation.Results.Count == 0)
        {
            throw new UsageException(NobodyCan(dpEvent, relation, accountants));
        }

        if (result.GetValue(options.Json))
        {
            var json = new JsonObject
            {
                ["event"] = JsonNode.Parse(DpEventJson.Serialize(dpEvent)),
                ["neighboring_relation"] = NameOf(relation),
                ["delta"] = delta,
                ["results"] = EpsilonCommand.ResultsJson(evaluation.Results),
                ["unsupported"] = new JsonArray([.. evaluation.Unsupported.Select(k => (JsonNode)JsonValue.Create(EventAccounting.Name(k)))]),
            };
            stdout.WriteLine(json.ToJsonString());
        }
        else
        {
            PrivacyStatement.WriteEvent(stdout, Path.GetFileName(path), relation, delta, evaluation);
        }

        return CliApp.ExitOk;
    }

    internal static string NameOf(NeighboringRelation relation) => Relations.First(r => r.Relation == relation).Name;

    private static NeighboringRelation ParseRelation(string? text)
    {
        if (text is null)
        {
            return NeighboringRelation.AddOrRemoveOne;
        }

        foreach (var (name, relation) in Relations)
        {
            if (string.Equals(text, name, StringComparison.OrdinalIgnoreCase))
            {
                return relation;
            }
        }

        throw new UsageException($"--neighboring-relation must be one of {string.Join(", ", Relations.Select(r => r.Name))} (got '{text}')");
    }

    private static DpEvent Read(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new UsageException($"--event: cannot read '{path}': {e.Message}");
        }

        try
        {
            return DpEventJson.Deserialize(text);
        }
        catch (Exception e) when (e is JsonException or NotSupportedException)
        {
            throw new UsageException($"--event: '{path}' is not a valid event: {OneLine(e.Message)}");
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"--event: '{path}' holds an invalid event: {Describe(e)}");
        }
    }

    /// <summary>"sample_size = 11: must be in [0, source dataset size]", in the JSON's names.</summary>
    private static string Describe(ArgumentException e)
    {
        var message = e.Message;
        var suffix = message.IndexOf(" (Parameter '", StringComparison.Ordinal);
        if (suffix >= 0)
        {
            message = message[..suffix];
        }

        if (e.ParamName is not { } name)
        {
            return OneLine(message);
        }

        var snake = JsonNamingPolicy.SnakeCaseLower.ConvertName(name.TrimStart('@'));
        message = message.Replace(name, snake, StringComparison.Ordinal);
        var actual = e is ArgumentOutOfRangeException { ActualValue: { } value }
            ? $" = {Convert.ToString(value, CultureInfo.InvariantCulture)}"
            : "";
        return OneLine($"{snake}{actual}: {message}");
    }

    private static string NobodyCan(DpEvent dpEvent, NeighboringRelation relation, IReadOnlyList<AccountantKind> asked)
    {
        var names = string.Join(" and ", asked.Select(EventAccounting.Name));
        var others = EventAccounting.AllAccountants.Where(k => !asked.Contains(k) && EventAccounting.CanAnalyse(k, relation, dpEvent)).ToArray();
        if (others.Length > 0)
        {
            var other = EventAccounting.Name(others[0]);
            return $"--accountant {names} cannot analyse this event under {NameOf(relation)}; {other} can (--accountant {other})";
        }

        var elsewhere = new List<string>();
        string? hint = null;
        foreach (var (name, other) in Relations.Where(r => r.Relation != relation))
        {
            var can = EventAccounting.AllAccountants.Where(k => EventAccounting.CanAnalyse(k, other, dpEvent)).Select(EventAccounting.Name).ToArray();
            if (can.Length > 0)
            {
                elsewhere.Add($"{string.Join(" and ", can)} can under {name}");
                hint ??= name;
            }
        }

        var tail = hint is null ? "" : $"; {string.Join(", ", elsewhere)} (--neighboring-relation {hint})";
        return $"--event: no accountant can analyse this event under {NameOf(relation)}{tail}";
    }

    private static string OneLine(string text) => text.ReplaceLineEndings(" ");
}

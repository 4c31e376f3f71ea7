using System.Text.Json;
using System.Text.Json.Serialization;

namespace DiffPriv.Accounting.Events;

/// <summary>Reads step counts as an array of integers or, as dp_accounting allows, one integer; writes an array.</summary>
internal sealed class StepCountsJsonConverter : JsonConverter<IReadOnlyList<long>>
{
    public override IReadOnlyList<long> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Number)
        {
            return [reader.GetInt64()];
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new JsonException("step_counts must be an integer or an array of integers.");
        }

        var list = new List<long>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.Number)
            {
                throw new JsonException("step_counts must hold integers only.");
            }

            list.Add(reader.GetInt64());
        }

        return list;
    }

    public override void Write(Utf8JsonWriter writer, IReadOnlyList<long> value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        foreach (var v in value)
        {
            writer.WriteNumberValue(v);
        }

        writer.WriteEndArray();
    }
}

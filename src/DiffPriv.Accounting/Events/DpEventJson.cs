using System.Text.Json;
using System.Text.Json.Serialization;

namespace DiffPriv.Accounting.Events;

/// <summary>JSON form of <see cref="DpEvent"/> trees: a <c>type</c> discriminator and snake_case properties.</summary>
public static class DpEventJson
{
    /// <summary>The serializer options used for events.</summary>
    public static JsonSerializerOptions Options { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        WriteIndented = false,
    };

    /// <summary>Serializes an event tree.</summary>
    /// <param name="event">The event.</param>
    /// <returns>Its JSON text.</returns>
    public static string Serialize(DpEvent @event) => JsonSerializer.Serialize(@event, Options);

    /// <summary>Parses an event tree; the parameters are validated as on construction.</summary>
    /// <param name="json">JSON produced by <see cref="Serialize"/>.</param>
    /// <returns>The event.</returns>
    /// <exception cref="JsonException">The text is not a valid event.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is outside its valid range.</exception>
    public static DpEvent Deserialize(string json) =>
        JsonSerializer.Deserialize<DpEvent>(json, Options) ?? throw new JsonException("Expected a DpEvent object, found null.");
}

using System.Text.Json;
using System.Text.Json.Serialization;

namespace DiffPriv.Accounting.Events;

/// <summary>
/// JSON form of <see cref="DpEvent"/> trees: a <c>type</c> discriminator (dp_accounting's class name without
/// <c>DpEvent</c>, in snake case) and dp_accounting's attribute names in snake case. Every property without a default
/// is required and unknown properties are rejected; where ∞ is allowed it is written <c>"Infinity"</c>.
/// </summary>
public static class DpEventJson
{
    /// <summary>The serializer options used for events.</summary>
    public static JsonSerializerOptions Options { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        WriteIndented = false,

        // A misspelt or missing property must not silently become a default (a sample size of 0 would cost nothing):
        // every constructor parameter without a default is required, and unknown properties are errors.
        RespectRequiredConstructorParameters = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,

        // Hand-written files need not put "type" first.
        AllowOutOfOrderMetadataProperties = true,
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

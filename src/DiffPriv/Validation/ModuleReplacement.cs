using System.Collections;
using System.Reflection;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace DiffPriv.Validation;

/// <summary>
/// Replaces a child module inside its parent, the one mechanism behind <see cref="ModuleValidator.Fix(nn.Module)"/> (BatchNorm → GroupNorm,
/// fused recurrent layers → DP drop-ins) and <see cref="Layers.Lora"/> (nn.Linear ⇄ <see cref="Layers.LoraLinear"/>).
/// TorchSharp has no public way to swap a registered child: the parent's fields, <c>nn.Sequential</c>'s list and the
/// registered-children table are updated by reflection.
/// </summary>
internal static class ModuleReplacement
{
    /// <summary>
    /// Puts <paramref name="replacement"/> where <paramref name="parent"/> holds <paramref name="old"/>: in every field of the
    /// parent that references it (custom modules call their children through fields), in <c>nn.Sequential</c>'s list, and
    /// in the parent's registered children under <paramref name="name"/> (same position, so <c>parameters()</c> keeps its order).
    /// </summary>
    /// <param name="parent">The module that holds <paramref name="old"/> as its child <paramref name="name"/>.</param>
    /// <param name="name">The child's registered name (the last segment of its path).</param>
    /// <param name="old">The child to replace.</param>
    /// <param name="replacement">The new child.</param>
    /// <param name="fieldAdvice">Appended to the exception message: how the caller's model can be made replaceable.</param>
    /// <exception cref="NotSupportedException">A field holding <paramref name="old"/> cannot hold <paramref name="replacement"/>,
    /// or nothing holds it. Fields already visited may have been changed: callers that need all-or-nothing undo it by
    /// replacing back.</exception>
    internal static void Replace(nn.Module parent, string name, nn.Module old, nn.Module replacement, string fieldAdvice)
    {
        const BindingFlags Flags = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic;
        var replaced = false;
        if (parent is Sequential)
        {
            // Sequential keeps its children in a list that forward() walks.
            for (var type = parent.GetType(); type is not null && !replaced; type = type.BaseType)
            {
                if (type.GetField("_modules", Flags)?.GetValue(parent) is IList list)
                {
                    for (var i = 0; i < list.Count; i++)
                    {
                        if (ReferenceEquals(list[i], old))
                        {
                            list[i] = replacement;
                            replaced = true;
                        }
                    }
                }
            }
        }

        // Custom modules call their children through fields.
        for (var type = parent.GetType(); type is not null && type != typeof(nn.Module); type = type.BaseType)
        {
            foreach (var field in type.GetFields(Flags | BindingFlags.DeclaredOnly))
            {
                if (!ReferenceEquals(field.GetValue(parent), old))
                {
                    continue;
                }

                if (!field.FieldType.IsInstanceOfType(replacement))
                {
                    throw new NotSupportedException(
                        $"Cannot replace {old.GetType().Name} '{name}' in {parent.GetType().Name}: its field '{field.Name}' has type {field.FieldType.Name}, " +
                        $"which cannot hold a {replacement.GetType().Name}. {fieldAdvice}");
                }

                field.SetValue(parent, replacement);
                replaced = true;
            }
        }

        if (!replaced)
        {
            throw new NotSupportedException(
                $"Cannot replace {old.GetType().Name} '{name}' in {parent.GetType().Name}: no field or list holds it. {fieldAdvice}");
        }

        Reregister(parent, name, replacement);
    }

    /// <summary>Points the parent's registered child <paramref name="name"/> at <paramref name="replacement"/>, in the same position.</summary>
    private static void Reregister(nn.Module parent, string name, nn.Module replacement)
    {
        // Module.register_module refuses a name that is already registered: replace the entry of TorchSharp's ordered child
        // table in place (the order of children, hence of parameters(), is kept), or else unregister and register again.
        var table = typeof(nn.Module).GetField("_internal_submodules", BindingFlags.Instance | BindingFlags.NonPublic)?.GetValue(parent);
        if (table is OrderedDict<string, nn.Module> children && children.ContainsKey(name))
        {
            children[name] = replacement;
            return;
        }

        if (parent is Sequential)
        {
            // Sequential's children are its list, replaced above; its registered-children table is unused and empty
            // (measured, TorchSharp 0.107). register_module would add a dead entry there, make a second replacement of the
            // same slot throw ("already registered"), and run RegisterComponents on the replacement.
            return;
        }

        parent.register_module(name, null!);
        parent.register_module(name, replacement);
    }
}

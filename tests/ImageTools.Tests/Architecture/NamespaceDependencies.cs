using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using System.Reflection.Emit;

namespace ImageTools.Tests.Architecture
{
    /// <summary>
    /// Which namespaces of an assembly use which, read from the compiled code: signatures, base types,
    /// attributes, locals and every type, method and field a method body names. Compiler-made types
    /// (lambdas, async state machines) are nested in the type they came from, so they count for its namespace.
    /// </summary>
    internal static class NamespaceDependencies
    {
        private const BindingFlags Declared = BindingFlags.DeclaredOnly | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static;

        private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
            .GetFields(BindingFlags.Public | BindingFlags.Static)
            .Select(field => (OpCode)field.GetValue(null)!)
            .ToDictionary(code => code.Value);

        /// <summary>(from, to) namespace pairs, each with one type that shows it ("A uses B").</summary>
        public static Dictionary<(string From, string To), string> Of(Assembly assembly, string prefix)
        {
            var edges = new Dictionary<(string, string), string>();
            foreach (var type in assembly.GetTypes())
            {
                var from = NamespaceOf(type);
                if (from == null || !from.StartsWith(prefix, StringComparison.Ordinal)) continue;
                foreach (var used in TypesUsedBy(type).SelectMany(Flatten))
                {
                    var to = NamespaceOf(used);
                    if (to == null || to == from || used.Assembly != assembly || !to.StartsWith(prefix, StringComparison.Ordinal)) continue;
                    if (!edges.ContainsKey((from, to))) edges[(from, to)] = $"{type.FullName} uses {used.FullName}";
                }
            }
            return edges;
        }

        private static string? NamespaceOf(Type type)
        {
            while (type.IsNested) type = type.DeclaringType!;
            return type.Namespace;
        }

        private static IEnumerable<Type> Flatten(Type type)
        {
            if (type.HasElementType) { foreach (var inner in Flatten(type.GetElementType()!)) yield return inner; yield break; }
            if (type.IsGenericParameter) yield break;
            yield return type.IsGenericType ? type.GetGenericTypeDefinition() : type;
            if (type.IsGenericType)
                foreach (var argument in type.GetGenericArguments())
                    foreach (var inner in Flatten(argument)) yield return inner;
        }

        private static IEnumerable<Type> TypesUsedBy(Type type)
        {
            if (type.BaseType != null) yield return type.BaseType;
            foreach (var contract in type.GetInterfaces()) yield return contract;
            foreach (var attribute in type.CustomAttributes) yield return attribute.AttributeType;
            foreach (var field in type.GetFields(Declared)) yield return field.FieldType;
            foreach (var property in type.GetProperties(Declared)) yield return property.PropertyType;
            foreach (var evt in type.GetEvents(Declared)) if (evt.EventHandlerType != null) yield return evt.EventHandlerType;
            var methods = type.GetMethods(Declared).Cast<MethodBase>().Concat(type.GetConstructors(Declared));
            foreach (var method in methods)
            {
                if (method is MethodInfo info) yield return info.ReturnType;
                foreach (var parameter in method.GetParameters()) yield return parameter.ParameterType;
                foreach (var used in TypesInBody(method)) yield return used;
            }
        }

        private static IEnumerable<Type> TypesInBody(MethodBase method)
        {
            var body = method.GetMethodBody();
            if (body == null) yield break;
            foreach (var local in body.LocalVariables) yield return local.LocalType;
            var il = body.GetILAsByteArray() ?? Array.Empty<byte>();
            var typeArguments = method.DeclaringType!.IsGenericType ? method.DeclaringType.GetGenericArguments() : null;
            var methodArguments = method.IsGenericMethod ? method.GetGenericArguments() : null;
            for (var position = 0; position < il.Length;)
            {
                short value = il[position++];
                if (value == 0xFE) value = unchecked((short)(0xFE00 | il[position++]));
                var code = OpCodesByValue[value];
                switch (code.OperandType)
                {
                    case OperandType.InlineType:
                    case OperandType.InlineMethod:
                    case OperandType.InlineField:
                    case OperandType.InlineTok:
                        var token = BitConverter.ToInt32(il, position);
                        position += 4;
                        MemberInfo? member = null;
                        try { member = method.Module.ResolveMember(token, typeArguments, methodArguments); }
                        catch (ArgumentException) { }
                        if (member is Type named) yield return named;
                        else if (member is FieldInfo field) { yield return field.DeclaringType!; yield return field.FieldType; }
                        else if (member is MethodBase called)
                        {
                            yield return called.DeclaringType!;
                            if (called is MethodInfo calledInfo) yield return calledInfo.ReturnType;
                            if (called.IsGenericMethod) foreach (var argument in called.GetGenericArguments()) yield return argument;
                        }
                        break;
                    case OperandType.InlineSwitch:
                        var count = BitConverter.ToInt32(il, position);
                        position += 4 + 4 * count;
                        break;
                    default:
                        position += OperandSize(code.OperandType);
                        break;
                }
            }
        }

        private static int OperandSize(OperandType operand) => operand switch
        {
            OperandType.InlineNone => 0,
            OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
            OperandType.InlineVar => 2,
            OperandType.InlineI8 or OperandType.InlineR => 8,
            _ => 4,
        };
    }
}

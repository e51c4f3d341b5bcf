using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Reflection;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace ImageTools.HelpGenerator
{
    /// <summary>One cmdlet's help as read from metadata and doc comments.</summary>
    public sealed class CmdletHelp
    {
        public string Name { get; init; } = "";
        public string Verb { get; init; } = "";
        public string Noun { get; init; } = "";
        public string Synopsis { get; init; } = "";
        public string Description { get; init; } = "";
        public IReadOnlyList<ParameterHelp> Parameters { get; init; } = Array.Empty<ParameterHelp>();
        public IReadOnlyList<string> ParameterSets { get; init; } = Array.Empty<string>();
        public IReadOnlyList<(string Code, string Remarks)> Examples { get; init; } = Array.Empty<(string, string)>();
        public IReadOnlyList<Type> Outputs { get; init; } = Array.Empty<Type>();
    }

    public sealed class ParameterHelp
    {
        public string Name { get; init; } = "";
        public Type Type { get; init; } = typeof(object);
        public string Description { get; init; } = "";
        public IReadOnlyList<(string Set, bool Mandatory, int? Position, bool ByValue, bool ByName)> Sets { get; init; } = Array.Empty<(string, bool, int?, bool, bool)>();
        public bool Wildcards { get; init; }
        /// <summary>The value the parameter has when not given, as help shows it; empty when it has none worth telling.</summary>
        public string DefaultValue { get; init; } = "";
    }

    /// <summary>
    /// Reads cmdlets through CustomAttributeData (PowerShellStandard's attribute classes are stubs
    /// that read back as defaults) and their doc comments, and writes PowerShell's MAML format.
    /// </summary>
    public static class MamlWriter
    {
        private const string AllSets = "__AllParameterSets";
        private static readonly XNamespace Msh = "http://msh";
        private static readonly XNamespace Maml = "http://schemas.microsoft.com/maml/2004/10";
        private static readonly XNamespace Command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
        private static readonly XNamespace Dev = "http://schemas.microsoft.com/maml/dev/2004/10";

        public static IReadOnlyList<CmdletHelp> Read(Assembly assembly, XDocument docs)
        {
            var members = docs.Descendants("member").ToDictionary(m => (string)m.Attribute("name")!, m => m);
            return assembly.GetExportedTypes()
                .Where(t => typeof(Cmdlet).IsAssignableFrom(t) && !t.IsAbstract)
                .Select(t => ReadCmdlet(t, members))
                .OrderBy(c => c.Name, StringComparer.Ordinal)
                .ToList();
        }

        public static XDocument Write(IEnumerable<CmdletHelp> cmdlets) =>
            new XDocument(new XDeclaration("1.0", "utf-8", null),
                new XElement(Msh + "helpItems", new XAttribute("schema", "maml"),
                    new XAttribute(XNamespace.Xmlns + "maml", Maml), new XAttribute(XNamespace.Xmlns + "command", Command),
                    new XAttribute(XNamespace.Xmlns + "dev", Dev),
                    cmdlets.Select(WriteCommand)));

        private static CmdletHelp ReadCmdlet(Type type, IReadOnlyDictionary<string, XElement> members)
        {
            var cmdlet = type.GetCustomAttributesData().Single(a => a.AttributeType == typeof(CmdletAttribute));
            var verb = (string)cmdlet.ConstructorArguments[0].Value!;
            var noun = (string)cmdlet.ConstructorArguments[1].Value!;
            members.TryGetValue("T:" + type.FullName, out var typeDoc);
            var defaults = Activator.CreateInstance(type);
            var parameters = type.GetProperties()
                .Select(p => (Property: p, Attributes: p.GetCustomAttributesData().Where(a => a.AttributeType == typeof(ParameterAttribute)).ToList()))
                .Where(p => p.Attributes.Count > 0)
                .Select(p =>
                {
                    // A parameter a base cmdlet declares is documented under that class.
                    members.TryGetValue($"P:{p.Property.DeclaringType!.FullName}.{p.Property.Name}", out var doc);
                    return new ParameterHelp
                    {
                        Name = p.Property.Name,
                        Type = p.Property.PropertyType,
                        Description = Text(doc?.Element("summary")),
                        Wildcards = p.Property.GetCustomAttributesData().Any(a => a.AttributeType == typeof(SupportsWildcardsAttribute)),
                        DefaultValue = DefaultValueOf(p.Property, defaults),
                        Sets = p.Attributes.Select(a => (
                            Named(a, "ParameterSetName") as string ?? AllSets,
                            Named(a, "Mandatory") is true,
                            Named(a, "Position") is int position && position >= 0 ? position : (int?)null,
                            Named(a, "ValueFromPipeline") is true,
                            Named(a, "ValueFromPipelineByPropertyName") is true)).ToList(),
                    };
                }).ToList();
            if (Named(cmdlet, "SupportsShouldProcess") is true) parameters.AddRange(ShouldProcessParameters);
            // The default set may have no parameter of its own (Get-ImageGraph's nodes set holds only
            // parameters of every set), yet it is the first syntax a reader needs.
            var defaultSet = Named(cmdlet, "DefaultParameterSetName") as string;
            var sets = new[] { defaultSet }.Concat(parameters.SelectMany(p => p.Sets.Select(s => s.Set)))
                .Where(s => s != null && s != AllSets).Select(s => s!).Distinct().ToList();
            if (sets.Count == 0) sets.Add(AllSets);
            return new CmdletHelp
            {
                Name = $"{verb}-{noun}",
                Verb = verb,
                Noun = noun,
                Synopsis = Text(typeDoc?.Element("summary")),
                Description = Text(typeDoc?.Element("remarks")) is { Length: > 0 } remarks ? remarks : Text(typeDoc?.Element("summary")),
                Parameters = parameters,
                ParameterSets = sets,
                Examples = typeDoc?.Elements("example").Select(e => (Code: e.Element("code")?.Value.Trim() ?? "", Remarks: Text(e.Element("para")))).ToList()
                           ?? new List<(string, string)>(),
                Outputs = type.GetCustomAttributesData().Where(a => a.AttributeType == typeof(OutputTypeAttribute))
                    .SelectMany(a => ((IEnumerable<CustomAttributeTypedArgument>)a.ConstructorArguments[0].Value!).Select(v => (Type)v.Value!))
                    .Distinct().ToList(),
            };
        }

        // PowerShell adds these to every cmdlet that supports ShouldProcess; help lists them like platyPS does.
        private static readonly ParameterHelp[] ShouldProcessParameters =
        {
            new ParameterHelp { Name = "WhatIf", Type = typeof(SwitchParameter), Sets = new[] { (AllSets, false, (int?)null, false, false) },
                Description = "Shows what the cmdlet would do, and changes nothing." },
            new ParameterHelp { Name = "Confirm", Type = typeof(SwitchParameter), Sets = new[] { (AllSets, false, (int?)null, false, false) },
                Description = "Asks for confirmation before each change." },
        };

        private static XElement WriteCommand(CmdletHelp help) =>
            new XElement(Command + "command",
                new XElement(Command + "details",
                    new XElement(Command + "name", help.Name),
                    new XElement(Command + "verb", help.Verb),
                    new XElement(Command + "noun", help.Noun),
                    new XElement(Maml + "description", Para(help.Synopsis))),
                new XElement(Maml + "description", Para(help.Description)),
                new XElement(Command + "syntax", help.ParameterSets.Select(set =>
                    new XElement(Command + "syntaxItem",
                        new XElement(Maml + "name", help.Name),
                        help.Parameters.Where(p => p.Sets.Any(s => s.Set == set || s.Set == AllSets))
                            .Select(p => Parameter(p, p.Sets.First(s => s.Set == set || s.Set == AllSets), inSyntax: true))))),
                new XElement(Command + "parameters", help.Parameters.Select(p => Parameter(p, p.Sets[0], inSyntax: false))),
                new XElement(Command + "inputTypes", help.Parameters.Where(p => p.Sets.Any(s => s.ByValue)).Select(p =>
                    new XElement(Command + "inputType", new XElement(Dev + "type", new XElement(Maml + "name", ElementType(p.Type).FullName))))),
                new XElement(Command + "returnValues", help.Outputs.Select(t =>
                    new XElement(Command + "returnValue", new XElement(Dev + "type", new XElement(Maml + "name", t.FullName))))),
                new XElement(Command + "examples", help.Examples.Select((e, i) =>
                    new XElement(Command + "example",
                        new XElement(Maml + "title", $"-------------------------- Example {i + 1} --------------------------"),
                        new XElement(Dev + "code", e.Code),
                        new XElement(Dev + "remarks", Para(e.Remarks))))));

        // A switch takes no value: the syntax line shows [-NoCache], not [-NoCache <SwitchParameter>].
        private static XElement Parameter(ParameterHelp parameter, (string Set, bool Mandatory, int? Position, bool ByValue, bool ByName) set, bool inSyntax) =>
            new XElement(Command + "parameter",
                new XAttribute("required", set.Mandatory ? "true" : "false"),
                new XAttribute("globbing", parameter.Wildcards ? "true" : "false"),
                new XAttribute("pipelineInput", set.ByValue && set.ByName ? "True (ByValue, ByPropertyName)" : set.ByValue ? "True (ByValue)" : set.ByName ? "True (ByPropertyName)" : "False"),
                new XAttribute("position", set.Position?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "named"),
                new XElement(Maml + "name", parameter.Name),
                new XElement(Maml + "description", Para(parameter.Description)),
                inSyntax && IsSwitch(parameter.Type) ? null : new XElement(Command + "parameterValue", new XAttribute("required", IsSwitch(parameter.Type) ? "false" : "true"),
                    ElementType(parameter.Type).Name + (parameter.Type.IsArray ? "[]" : "")),
                new XElement(Dev + "type", new XElement(Maml + "name", parameter.Type.FullName)),
                inSyntax ? null : new XElement(Dev + "defaultValue", parameter.DefaultValue));

        // A property initializer is the parameter's default (ThrottleLimit = 4). Zero, false and null
        // mean "not given" in these cmdlets (a ThrottleLimit of 0 falls back to the tree's), so they are not shown.
        private static string DefaultValueOf(PropertyInfo property, object? cmdlet)
        {
            var value = cmdlet == null ? null : property.GetValue(cmdlet);
            if (value == null || value is Array || IsSwitch(property.PropertyType)) return "";
            if (property.PropertyType.IsValueType && value.Equals(Activator.CreateInstance(property.PropertyType))) return "";
            return Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "";
        }

        private static bool IsSwitch(Type type) => type.FullName == typeof(SwitchParameter).FullName;

        private static XElement Para(string text) => new XElement(Maml + "para", text);

        private static Type ElementType(Type type) => type.IsArray ? type.GetElementType()! : type;

        private static object? Named(CustomAttributeData attribute, string name)
        {
            foreach (var argument in attribute.NamedArguments)
                if (argument.MemberName == name) return argument.TypedValue.Value;
            return null;
        }

        /// <summary>Doc-comment text with cref/paramref turned into plain words and white space folded.</summary>
        private static string Text(XElement? element)
        {
            if (element == null) return "";
            var text = string.Concat(element.Nodes().Select(n => n is XElement e
                ? (string?)e.Attribute("cref") is { } cref ? cref.Substring(cref.LastIndexOf('.') + 1) : (string?)e.Attribute("name") ?? e.Value
                : n.ToString()));
            return Regex.Replace(System.Net.WebUtility.HtmlDecode(text), @"\s+", " ").Trim();
        }
    }
}

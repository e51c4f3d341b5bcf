using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Reflection;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using ImageTools.Commands;
using Xunit;

namespace ImageTools.Tests.Commands
{
    /// <summary>
    /// Checks cmdlet conduct from metadata alone. PowerShellStandard's attribute classes are stubs
    /// whose properties read back as defaults, so attributes are read as CustomAttributeData.
    /// </summary>
    public class CmdletMetadataTests
    {
        private const string AllSets = "__AllParameterSets";

        public static IEnumerable<object[]> CmdletTypes() =>
            typeof(GetImageGraphCommand).Assembly.GetExportedTypes()
                .Where(t => typeof(Cmdlet).IsAssignableFrom(t) && !t.IsAbstract)
                .Select(t => new object[] { t });

        [Fact]
        public void The_assembly_has_cmdlets() => Assert.NotEmpty(CmdletTypes());

        [Theory]
        [MemberData(nameof(CmdletTypes))]
        public void Uses_an_approved_verb_and_a_singular_noun(Type type)
        {
            var (verb, noun) = NameOf(type);

            Assert.Contains(verb, ApprovedVerbs());
            Assert.StartsWith("Image", noun);
            Assert.False(noun.EndsWith("s", StringComparison.Ordinal), $"{noun} should be singular");
            Assert.Equal(verb + noun.Replace("-", "") + "Command", type.Name);
        }

        [Theory]
        [MemberData(nameof(CmdletTypes))]
        public void Declares_an_output_type_for_every_parameter_set(Type type)
        {
            var outputs = Attributes<OutputTypeAttribute>(type).ToList();
            Assert.NotEmpty(outputs);
            var covered = outputs.SelectMany(a => Named(a, "ParameterSetName") is IEnumerable<CustomAttributeTypedArgument> sets
                ? sets.Select(s => (string)s.Value!) : new[] { AllSets }).ToHashSet();

            foreach (var set in ParameterSets(type).Where(s => s != AllSets))
                Assert.True(covered.Contains(set) || covered.Contains(AllSets), $"{type.Name}: no OutputType for parameter set {set}");
        }

        [Theory]
        [MemberData(nameof(CmdletTypes))]
        public void Has_at_most_one_pipeline_by_value_parameter_per_parameter_set(Type type)
        {
            var byValue = Parameters(type).Where(p => Named(p.Attribute, "ValueFromPipeline") is true).ToList();

            foreach (var set in ParameterSets(type))
            {
                var inSet = byValue.Where(p => p.Set == set || p.Set == AllSets).Select(p => p.Property.Name).Distinct().ToList();
                Assert.True(inSet.Count <= 1, $"{type.Name} set {set}: {string.Join(", ", inSet)} all take pipeline input by value");
            }
        }

        [Theory]
        [MemberData(nameof(CmdletTypes))]
        public void Name_parameters_complete_image_names(Type type)
        {
            var name = type.GetProperty("Name");
            if (name == null) return;

            var completer = name.GetCustomAttributesData().Single(a => a.AttributeType == typeof(ArgumentCompleterAttribute));
            Assert.Equal(typeof(ImageNameCompleter), completer.ConstructorArguments[0].Value);
            Assert.Contains(name.GetCustomAttributesData(), a => a.AttributeType == typeof(SupportsWildcardsAttribute));
        }

        [Fact]
        public void Get_ImageGraph_takes_a_path_from_the_pipeline_and_emits_nodes_or_text()
        {
            var type = typeof(GetImageGraphCommand);
            var path = Parameters(type).Single(p => p.Property.Name == "Path").Attribute;

            Assert.Equal(true, Named(path, "ValueFromPipeline"));
            Assert.Equal(true, Named(path, "ValueFromPipelineByPropertyName"));
            Assert.Equal(0, Named(path, "Position"));
            var outputs = Attributes<OutputTypeAttribute>(type)
                .SelectMany(a => ((IEnumerable<CustomAttributeTypedArgument>)a.ConstructorArguments[0].Value!).Select(v => (Type)v.Value!));
            Assert.Equal(new[] { typeof(ImageTools.Graph.ImageNode), typeof(string) }, outputs);
        }

        [Theory]
        [InlineData(typeof(GetImageGraphCommand), typeof(TestImageNeedsRebuildCommand))]
        [InlineData(typeof(TestImageNeedsRebuildCommand), typeof(InvokeImageBuildCommand))]
        [InlineData(typeof(GetImageGraphCommand), typeof(InvokeImageBuildCommand))]
        [InlineData(typeof(GetImageGraphCommand), typeof(UpdateImageChangelogCommand))]
        [InlineData(typeof(InvokeImageBuildCommand), typeof(PublishImageCommand))]
        [InlineData(typeof(GetImageGraphCommand), typeof(PublishImageCommand))]
        [InlineData(typeof(TestImageNeedsRebuildCommand), typeof(NewImageBuildPlanCommand))]
        public void The_next_cmdlet_takes_the_previous_ones_output_from_the_pipeline(Type previous, Type next)
        {
            var produced = Attributes<OutputTypeAttribute>(previous)
                .SelectMany(a => ((IEnumerable<CustomAttributeTypedArgument>)a.ConstructorArguments[0].Value!).Select(v => (Type)v.Value!))
                .Where(t => t != typeof(string)).ToList();
            var byValue = Parameters(next).Where(p => Named(p.Attribute, "ValueFromPipeline") is true)
                .Select(p => p.Property.PropertyType.IsArray ? p.Property.PropertyType.GetElementType()! : p.Property.PropertyType).ToList();

            Assert.Contains(produced, output => byValue.Any(input => input.IsAssignableFrom(output)));
        }

        [Theory]
        [InlineData(typeof(InvokeImageBuildCommand))]
        [InlineData(typeof(PublishImageCommand))]
        [InlineData(typeof(UpdateImageChangelogCommand))]
        [InlineData(typeof(NewImageBuildPlanCommand))]
        public void Cmdlets_that_change_something_support_WhatIf_and_Confirm(Type type)
        {
            var cmdlet = Attributes<CmdletAttribute>(type).Single();

            Assert.Equal(true, Named(cmdlet, "SupportsShouldProcess"));
        }

        [Fact]
        public void Get_ImageGraph_changes_nothing_and_does_not_offer_WhatIf() =>
            Assert.Null(Named(Attributes<CmdletAttribute>(typeof(GetImageGraphCommand)).Single(), "SupportsShouldProcess"));

        [Fact]
        public void The_manifest_exports_exactly_the_compiled_cmdlets()
        {
            var manifest = File.ReadAllText(RepoPaths.Of("module/ImageTools.psd1"));
            var compiled = CmdletTypes().Select(t => NameOf((Type)t[0])).Select(n => $"{n.Verb}-{n.Noun}").OrderBy(n => n);

            Assert.Equal(compiled, ListIn(manifest, "CmdletsToExport").OrderBy(n => n));
            Assert.Empty(ListIn(manifest, "FunctionsToExport"));
            Assert.Empty(ListIn(manifest, "AliasesToExport"));
            Assert.Equal(new[] { "Desktop", "Core" }, ListIn(manifest, "CompatiblePSEditions"));
            Assert.Matches(@"RootModule\s*=\s*'ImageTools\.Commands\.dll'", manifest);
            Assert.Matches(@"PowerShellVersion\s*=\s*'5\.1'", manifest);
        }

        [Fact]
        public void Every_output_type_has_a_table_view()
        {
            var format = XDocument.Load(RepoPaths.Of("module/ImageTools.Format.ps1xml"));
            var tableViews = format.Descendants("View")
                .Where(v => v.Element("TableControl") != null)
                .Select(v => v.Element("ViewSelectedBy")!.Element("TypeName")!.Value).ToHashSet();
            var outputTypes = CmdletTypes().SelectMany(t => Attributes<OutputTypeAttribute>((Type)t[0]))
                .SelectMany(a => ((IEnumerable<CustomAttributeTypedArgument>)a.ConstructorArguments[0].Value!).Select(v => (Type)v.Value!))
                .Where(t => t != typeof(string)).Distinct();

            foreach (var type in outputTypes) Assert.Contains(type.FullName!, tableViews);
        }

        private static (string Verb, string Noun) NameOf(Type type)
        {
            var cmdlet = Attributes<CmdletAttribute>(type).Single();
            return ((string)cmdlet.ConstructorArguments[0].Value!, (string)cmdlet.ConstructorArguments[1].Value!);
        }

        private static HashSet<string> ApprovedVerbs() =>
            new[] { typeof(VerbsCommon), typeof(VerbsData), typeof(VerbsLifecycle), typeof(VerbsDiagnostic),
                    typeof(VerbsCommunications), typeof(VerbsSecurity), typeof(VerbsOther) }
                .SelectMany(t => t.GetFields(BindingFlags.Public | BindingFlags.Static))
                .Where(f => f.IsLiteral)
                .Select(f => (string)f.GetRawConstantValue()!)
                .ToHashSet();

        private static IEnumerable<CustomAttributeData> Attributes<T>(MemberInfo member) =>
            member.GetCustomAttributesData().Where(a => a.AttributeType == typeof(T));

        private static object? Named(CustomAttributeData attribute, string name)
        {
            // A default CustomAttributeNamedArgument throws on MemberName, so no FirstOrDefault here.
            foreach (var argument in attribute.NamedArguments)
                if (argument.MemberName == name) return argument.TypedValue.Value;
            return null;
        }

        private static IEnumerable<(PropertyInfo Property, CustomAttributeData Attribute, string Set)> Parameters(Type type) =>
            type.GetProperties().SelectMany(p => Attributes<ParameterAttribute>(p)
                .Select(a => (p, a, Named(a, "ParameterSetName") as string ?? AllSets)));

        private static IEnumerable<string> ParameterSets(Type type) =>
            Parameters(type).Select(p => p.Set).Append(AllSets).Distinct();

        private static IEnumerable<string> ListIn(string manifest, string key)
        {
            var match = Regex.Match(manifest, key + @"\s*=\s*@\(([^)]*)\)");
            Assert.True(match.Success, $"{key} missing from the manifest");
            return Regex.Matches(match.Groups[1].Value, "'([^']*)'").Select(m => m.Groups[1].Value);
        }
    }
}

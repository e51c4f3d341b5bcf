using System;
using System.Linq;
using System.Reflection;
using ImageTools.Commands;
using ImageTools.Docker.Api;
using Xunit;

namespace ImageTools.Tests.Architecture
{
    /// <summary>
    /// Public is what users receive and name: the cmdlets' output types, their enums, the errors they
    /// catch, and what the cmdlets take. Everything else is internal, so scripts cannot come to rely on
    /// it; the module's own assemblies and these tests see it through InternalsVisibleTo. A type added
    /// here is a promise to users (docs/ARCHITECTURE.md, "Public surface").
    /// </summary>
    public class PublicSurfaceTests
    {
        [Fact]
        public void The_engine_exports_only_what_the_cmdlets_emit_and_take() =>
            Assert.Equal(new[]
            {
                "ImageTools.Building.BuildResult",
                "ImageTools.Building.BuildStatus",
                "ImageTools.Changelogs.ChangelogUpdate",
                "ImageTools.Definitions.ImageTreeException",
                "ImageTools.FaultKind",
                "ImageTools.Graph.GraphTextFormat",
                "ImageTools.Graph.ImageNode",
                "ImageTools.ImageToolsException",
                "ImageTools.Planning.BuildPlanLeg",
                "ImageTools.Planning.ParentImage",
                "ImageTools.Planning.RebuildReason",
                "ImageTools.Planning.RebuildStatus",
                "ImageTools.Promotion.CopiedImage",
                "ImageTools.Promotion.CopyStatus",
                "ImageTools.Pruning.PrunedImage",
                "ImageTools.Publishing.ArchivedImage",
                "ImageTools.Publishing.PublishResult",
                "ImageTools.Publishing.PublishStatus",
            }, Exported(typeof(ImageToolsException).Assembly));

        [Fact]
        public void The_Docker_API_adapter_exports_nothing() =>
            Assert.Empty(Exported(typeof(DockerApiEngine).Assembly));

        [Fact]
        public void The_cmdlet_assembly_exports_the_cmdlets_their_base_and_what_PowerShell_instantiates() =>
            Assert.Equal(new[]
            {
                "ImageTools.Commands.CopyImageCommand",
                "ImageTools.Commands.GetImageArchiveCommand",
                "ImageTools.Commands.GetImageGraphCommand",
                "ImageTools.Commands.ImageNameCompleter",
                "ImageTools.Commands.ImageToolsCmdlet",
                "ImageTools.Commands.InvokeImageBuildCommand",
                "ImageTools.Commands.ModuleInitializer",
                "ImageTools.Commands.NewImageBuildPlanCommand",
                "ImageTools.Commands.PublishImageCommand",
                "ImageTools.Commands.RemoveImageBuildCommand",
                "ImageTools.Commands.TestImageNeedsRebuildCommand",
                "ImageTools.Commands.UpdateImageChangelogCommand",
            }, Exported(typeof(GetImageGraphCommand).Assembly));

        [Fact]
        public void Users_cannot_construct_output_objects()
        {
            var outputs = typeof(ImageToolsException).Assembly.GetExportedTypes()
                .Where(t => t.IsClass && !typeof(Exception).IsAssignableFrom(t));

            foreach (var type in outputs)
                Assert.True(type.GetConstructors().Length == 0, $"{type.FullName} has a public constructor; output objects come from the cmdlets");
        }

        [Fact]
        public void Public_properties_of_exported_types_name_only_exported_or_framework_types()
        {
            var engine = typeof(ImageToolsException).Assembly;
            foreach (var type in engine.GetExportedTypes())
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            {
                var named = property.PropertyType.IsArray ? property.PropertyType.GetElementType()! : property.PropertyType;
                var all = named.IsGenericType ? named.GetGenericArguments().Append(named) : new[] { named };
                foreach (var t in all.Where(t => t.Assembly == engine))
                    Assert.True(t.IsPublic, $"{type.Name}.{property.Name} exposes the internal type {t.FullName}");
            }
        }

        private static string[] Exported(Assembly assembly) =>
            assembly.GetExportedTypes().Select(t => t.FullName!).OrderBy(n => n, StringComparer.Ordinal).ToArray();
    }
}

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Reflection;
using ImageTools.Commands;
using ImageTools.Definitions;
using Xunit;

namespace ImageTools.Tests.Commands
{
    /// <summary>
    /// The module's assemblies as <c>dotnet publish</c> lays them out (what build.ps1 -Task Package
    /// ships), published once from this run's build output.
    /// </summary>
    public sealed class PublishedModule : IDisposable
    {
        public static readonly string Configuration =
            typeof(PublishedModule).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()!.Configuration;

        public PublishedModule()
        {
            Scratch = Directory.CreateTempSubdirectory("imagetools-isolation-").FullName;
            ModuleDirectory = Path.Combine(Scratch, "ImageTools");
            var publish = Processes.Run("dotnet", TimeSpan.FromMinutes(3), "publish",
                RepoPaths.Of("src/ImageTools.Commands/ImageTools.Commands.csproj"),
                "--no-build", "-c", Configuration, "-o", ModuleDirectory, "--nologo", "-nodeReuse:false");
            if (publish.ExitCode != 0) throw new InvalidOperationException("dotnet publish failed:\n" + publish.Output);
        }

        public string Scratch { get; }

        public string ModuleDirectory { get; }

        public void Dispose()
        {
            try { Directory.Delete(Scratch, recursive: true); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>
    /// Dependency isolation (DESIGN.md "A good PowerShell citizen"): the module loads beside another
    /// module's YamlDotNet. No PowerShell runs here, so ImageTools.IsolationHost plays PowerShell 7
    /// in its own process: Assembly.LoadFrom into the default load context, the public types listed,
    /// the module initializer, the cmdlets' parameter types, then a scan of examples/ through the engine.
    /// </summary>
    // Publishes the module and runs the isolation host as a child process.
    [Trait(TestCategory.Name, TestCategory.Integration)]
    public class DependencyIsolationTests : IClassFixture<PublishedModule>
    {
        private readonly PublishedModule _module;

        public DependencyIsolationTests(PublishedModule module) => _module = module;

        private string Dependencies => Path.Combine(_module.ModuleDirectory, "dependencies");

        [Fact]
        public void The_layout_has_the_cmdlets_and_the_engine_at_the_root_and_the_YAML_reader_under_dependencies()
        {
            Assert.Equal(new[] { "ImageTools.Commands.dll", "ImageTools.Engine.dll" }, Names(Directory.GetFiles(_module.ModuleDirectory)));
            Assert.Equal(new[] { "dependencies" }, Names(Directory.GetDirectories(_module.ModuleDirectory)));
            // A new entry here is a decision: on PowerShell 7 it loads in the isolated context, which
            // is wrong for assemblies the runtime itself carries (System.Memory and the like).
            // The System.* and Microsoft.Bcl.* ones are for Windows PowerShell; on PowerShell 7 the load
            // context leaves them to the runtime (see Docker.DotNet's System.Text.Json below).
            Assert.Equal(new[] {
                    "BouncyCastle.Cryptography.dll",
                    "Docker.DotNet.dll", "Docker.DotNet.Handler.Abstractions.dll", "Docker.DotNet.LegacyHttp.dll", "Docker.DotNet.NativeHttp.dll",
                    "Docker.DotNet.NPipe.dll", "Docker.DotNet.Unix.dll", "Docker.DotNet.X509.dll", "ImageTools.Docker.Api.dll", "ImageTools.Isolation.dll", "ImageTools.Yaml.dll",
                    "Microsoft.Bcl.AsyncInterfaces.dll", "Microsoft.Extensions.DependencyInjection.Abstractions.dll",
                    "Microsoft.Extensions.Logging.Abstractions.dll", "Microsoft.Net.Http.Client.dll", "System.Buffers.dll", "System.IO.Pipelines.dll",
                    "System.Memory.dll", "System.Net.Http.Json.dll", "System.Numerics.Vectors.dll", "System.Runtime.CompilerServices.Unsafe.dll",
                    "System.Text.Encodings.Web.dll", "System.Text.Json.dll", "System.Threading.Tasks.Extensions.dll", "YamlDotNet.dll" },
                Names(Directory.GetFileSystemEntries(Dependencies)).OrderBy(n => n, StringComparer.OrdinalIgnoreCase));
        }

        [Fact]
        public void Only_the_YAML_reader_uses_YamlDotNet()
        {
            static IEnumerable<string?> References(Type type) => type.Assembly.GetReferencedAssemblies().Select(r => r.Name);

            Assert.DoesNotContain("YamlDotNet", References(typeof(GetImageGraphCommand)));
            Assert.DoesNotContain("ImageTools.Yaml", References(typeof(GetImageGraphCommand)));
            Assert.DoesNotContain(DependencyIsolation.IsolationAssembly, References(typeof(GetImageGraphCommand)));
            Assert.DoesNotContain("YamlDotNet", References(typeof(TreeScanner)));
            Assert.Contains("ImageTools.Yaml", References(typeof(TreeScanner)));
            Assert.Contains("YamlDotNet", References(typeof(ImageTools.Yaml.YamlReader)));
        }

        [Fact]
        public void The_YAML_readers_public_surface_has_no_YamlDotNet_type()
        {
            // The engine (default context) and ImageTools.Yaml (isolated context) meet only through
            // these types; a YamlDotNet type here would make the engine resolve YamlDotNet itself.
            var yamlDotNet = typeof(YamlDotNet.Core.Parser).Assembly;

            Assert.Empty(typeof(ImageTools.Yaml.YamlReader).Assembly.GetExportedTypes().SelectMany(t => Signature(t, yamlDotNet)));
        }

        [Fact]
        public void No_public_type_of_the_cmdlets_or_the_engine_mentions_the_YAML_reader()
        {
            // PowerShell lists the public types (and the cmdlets' parameter types) before it runs the
            // module initializer; a mention of ImageTools.Yaml there would load it before its resolver exists.
            var reader = typeof(ImageTools.Yaml.YamlReader).Assembly;
            var offenders = typeof(GetImageGraphCommand).Assembly.GetExportedTypes()
                .Concat(typeof(TreeScanner).Assembly.GetExportedTypes())
                .SelectMany(t => Signature(t, reader));

            Assert.Empty(offenders);
        }

        [Theory]
        [InlineData("before")]
        [InlineData("after")]
        public void Loads_and_parses_YAML_beside_another_modules_YamlDotNet(string other)
        {
            var seen = Host(_module.ModuleDirectory, other, "import");

            Assert.Equal("Default", seen["engine.context"]);
            Assert.Equal(Path.Combine(_module.ModuleDirectory, "ImageTools.Engine.dll"), seen["engine.path"]);
            Assert.Equal("True", seen["type.literal"]);
            Assert.Equal("ImageTools", seen["reader.context"]);
            Assert.Equal(Path.Combine(Dependencies, "ImageTools.Yaml.dll"), seen["reader.path"]);
            Assert.Equal($"16.0.0.0 {Path.Combine(Dependencies, "YamlDotNet.dll")}", seen["reader.yaml"]);
            Assert.Equal(TreeScanner.Scan(RepoPaths.Of("examples")).Images.Count.ToString(), seen["images"]);
            Assert.Equal("1.0.0 from ImageYaml", seen["runtime.version"]);
            // The other module's YamlDotNet is the only one PowerShell's context has, and it is intact.
            Assert.Equal("11.0.0.0", seen["other.loaded"]);
            Assert.Equal($"11.0.0.0 {Path.Combine(_module.Scratch, other, "other-module", "YamlDotNet.dll")}", seen["default.yaml"]);
            Assert.Equal("True", seen["default.yaml.marker"]);
            Assert.Equal("False", seen["resolves.unknown"]);
            // The Engine API adapter and its Docker.DotNet run from the isolated context beside the
            // other module's Docker.DotNet, which stays the only one in PowerShell's context.
            Assert.Equal("ImageTools", seen["api.context"]);
            Assert.Equal(Path.Combine(Dependencies, "ImageTools.Docker.Api.dll"), seen["api.path"]);
            Assert.Equal("EngineUnavailable", seen["api.version"]);
            Assert.Equal($"4.3.0.0 {Path.Combine(Dependencies, "Docker.DotNet.dll")}", seen["api.docker"]);
            Assert.Equal("3.125.0.0", seen["other.docker.loaded"]);
            Assert.Equal($"3.125.0.0 {Path.Combine(_module.Scratch, other, "other-module", "Docker.DotNet.dll")}", seen["default.docker"]);
            // System.Text.Json is the runtime's, once, in PowerShell's context: not the netstandard copy.
            Assert.Equal($"Default {Path.Combine(Path.GetDirectoryName(typeof(object).Assembly.Location)!, "System.Text.Json.dll")}", seen["api.json"]);
        }

        [Fact]
        public void Only_the_Engine_API_adapter_uses_Docker_DotNet_and_its_public_surface_names_none_of_its_types()
        {
            static IEnumerable<string?> References(Type type) => type.Assembly.GetReferencedAssemblies().Select(r => r.Name);

            Assert.DoesNotContain("Docker.DotNet", References(typeof(GetImageGraphCommand)));
            Assert.Contains("ImageTools.Docker.Api", References(typeof(GetImageGraphCommand)));
            Assert.DoesNotContain("Docker.DotNet", References(typeof(TreeScanner)));
            Assert.Contains("Docker.DotNet", References(typeof(ImageTools.Docker.Api.DockerApiEngine)));
            var docker = typeof(global::Docker.DotNet.DockerClient).Assembly;
            var offenders = typeof(ImageTools.Docker.Api.DockerApiEngine).Assembly.GetExportedTypes()
                .SelectMany(t => t.GetMembers(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
                .SelectMany(m => m switch
                {
                    MethodInfo method => method.GetParameters().Select(p => p.ParameterType).Append(method.ReturnType),
                    PropertyInfo property => new[] { property.PropertyType },
                    ConstructorInfo constructor => constructor.GetParameters().Select(p => p.ParameterType),
                    _ => Array.Empty<Type>(),
                })
                .Where(t => t.Assembly == docker).ToList();
            Assert.Empty(offenders);
        }

        [Fact]
        public void Hands_only_the_YAML_reader_to_PowerShell_not_YamlDotNet_nor_unknown_names()
        {
            var seen = Host(_module.ModuleDirectory, "none", "import");

            Assert.Equal("ImageTools", seen["reader.context"]);
            Assert.Equal("", seen["default.yaml"]);
            Assert.Equal("False", seen["resolves.yaml"]);
            Assert.Equal("False", seen["resolves.unknown"]);
        }

        [Theory]
        [InlineData("before", "Version=16.0.0.0")]
        [InlineData("after", "Assembly with same name is already loaded")]
        public void Without_the_dependencies_folder_the_two_YamlDotNets_conflict(string other, string error)
        {
            // The control: the same host and module laid out flat, as before isolation, fails the way
            // PowerShell did beside powershell-yaml; so the passing tests above are not vacuous.
            var flat = Path.Combine(_module.Scratch, "flat-" + other);
            Directory.CreateDirectory(flat);
            foreach (var file in Directory.GetFiles(_module.ModuleDirectory).Concat(Directory.GetFiles(Dependencies)))
                File.Copy(file, Path.Combine(flat, Path.GetFileName(file)));

            var seen = Host(flat, other, "import", expectedExitCode: 1);

            Assert.Equal("Default", seen["engine.context"]);
            Assert.Contains("YamlDotNet", seen["error"]);
            Assert.Contains(error, seen["error"]);
        }

        [Fact]
        public void The_Windows_PowerShell_resolve_handler_loads_the_YAML_reader_and_YamlDotNet_from_dependencies()
        {
            // .NET Framework is not here; this runs the 5.1 handler on .NET, where it lands in the
            // default context, without another YamlDotNet (side by side is .NET Framework's doing).
            var seen = Host(_module.ModuleDirectory, "none", "handler");

            Assert.Equal(Path.Combine(_module.ModuleDirectory, "ImageTools.Engine.dll"), seen["engine.path"]);
            Assert.Equal("Default", seen["reader.context"]);
            Assert.Equal(Path.Combine(Dependencies, "ImageTools.Yaml.dll"), seen["reader.path"]);
            Assert.Equal($"16.0.0.0 {Path.Combine(Dependencies, "YamlDotNet.dll")}", seen["reader.yaml"]);
            Assert.Equal(TreeScanner.Scan(RepoPaths.Of("examples")).Images.Count.ToString(), seen["images"]);
            Assert.Equal("False", seen["resolves.unknown"]);
            // The Engine API adapter and Docker.DotNet come from dependencies/ through the handler too.
            Assert.Equal(Path.Combine(Dependencies, "ImageTools.Docker.Api.dll"), seen["api.path"]);
            Assert.Equal($"4.3.0.0 {Path.Combine(Dependencies, "Docker.DotNet.dll")}", seen["api.docker"]);
            Assert.Equal("EngineUnavailable", seen["api.version"]);
        }

        [Fact]
        public void The_resolve_handler_answers_only_for_assemblies_in_dependencies_at_their_version_or_older()
        {
            string? PathOf(string name) => DependencyIsolation.PathOf(Dependencies, new AssemblyName(name));

            Assert.Equal(Path.Combine(Dependencies, "YamlDotNet.dll"), PathOf("YamlDotNet, Version=16.0.0.0, Culture=neutral, PublicKeyToken=ec19458f3c15af5e"));
            Assert.Equal(Path.Combine(Dependencies, "YamlDotNet.dll"), PathOf("YamlDotNet, Version=11.0.0.0"));
            Assert.Equal(Path.Combine(Dependencies, "ImageTools.Yaml.dll"), PathOf("ImageTools.Yaml"));
            Assert.Null(PathOf("YamlDotNet, Version=17.0.0.0"));
            Assert.Null(PathOf("Newtonsoft.Json, Version=13.0.0.0"));
            Assert.Null(PathOf("System.Management.Automation"));
            Assert.Null(PathOf("ImageTools.Engine"));
            Assert.Null(PathOf("ImageTools.Commands"));
            Assert.Null(PathOf("ImageTools.Isolation"));
        }

        /// <summary>Runs ImageTools.IsolationHost and returns its key=value report.</summary>
        private Dictionary<string, string> Host(string module, string other, string resolver, int expectedExitCode = 0)
        {
            var host = RepoPaths.Of($"tests/ImageTools.IsolationHost/bin/{PublishedModule.Configuration}/net10.0/ImageTools.IsolationHost.dll");
            var scratch = Path.Combine(_module.Scratch, other);
            var run = Processes.Run("dotnet", TimeSpan.FromMinutes(1), host, module, RepoPaths.Of("examples"), other, resolver, scratch);
            Assert.True(run.ExitCode == expectedExitCode, $"exit code {run.ExitCode}, expected {expectedExitCode}:\n{run.Output}");
            return run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(line => line.Split('=', 2))
                .Where(pair => pair.Length == 2)
                .ToDictionary(pair => pair[0], pair => pair[1].TrimEnd('\r'));
        }

        private static string[] Names(IEnumerable<string> paths) => paths.Select(Path.GetFileName).OrderBy(n => n, StringComparer.Ordinal).ToArray()!;

        /// <summary>Where <paramref name="type"/>'s public shape (bases, interfaces, fields, properties, methods) names a type of <paramref name="assembly"/>.</summary>
        private static IEnumerable<string> Signature(Type type, Assembly assembly)
        {
            const BindingFlags all = BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;
            for (var t = type.BaseType; t != null; t = t.BaseType)
                if (Mentions(t, assembly)) yield return $"{type.Name} : {t.Name}";
            foreach (var i in type.GetInterfaces().Where(i => Mentions(i, assembly))) yield return $"{type.Name} : {i.Name}";
            foreach (var f in type.GetFields(all).Where(f => Mentions(f.FieldType, assembly))) yield return $"{type.Name}.{f.Name}";
            foreach (var p in type.GetProperties(all).Where(p => Mentions(p.PropertyType, assembly))) yield return $"{type.Name}.{p.Name}";
            foreach (var m in type.GetMethods(all).Where(m => m.IsPublic || m.IsFamily))
                if (Mentions(m.ReturnType, assembly) || m.GetParameters().Any(p => Mentions(p.ParameterType, assembly)))
                    yield return $"{type.Name}.{m.Name}()";
        }

        private static bool Mentions(Type type, Assembly assembly) =>
            type.Assembly == assembly || (type.HasElementType && Mentions(type.GetElementType()!, assembly)) ||
            (type.IsGenericType && type.GetGenericArguments().Any(a => Mentions(a, assembly)));
    }

    internal static class Processes
    {
        public sealed record Result(int ExitCode, string Stdout, string Output);

        public static Result Run(string fileName, TimeSpan timeout, params string[] arguments)
        {
            var start = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var argument in arguments) start.ArgumentList.Add(argument);
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(timeout))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"{fileName} {string.Join(' ', arguments)} ran longer than {timeout}.");
            }
            process.WaitForExit();
            return new Result(process.ExitCode, stdout.Result, stdout.Result + stderr.Result);
        }
    }
}

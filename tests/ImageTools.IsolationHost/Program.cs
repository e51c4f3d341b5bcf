using System;
using System.Collections;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Reflection;
using System.Reflection.Emit;
using System.Runtime.Loader;
using System.Threading;

namespace ImageTools.IsolationHost
{
    /// <summary>
    /// ImageTools.IsolationHost MODULE_DIR TREE OTHER RESOLVER SCRATCH_DIR
    ///   OTHER: before | after | none — when another module's YamlDotNet 11 is loaded
    ///   RESOLVER: import (what PowerShell does) | handler (the 5.1 AssemblyResolve handler, forced)
    ///   SCRATCH_DIR: where the other module's YamlDotNet is written
    /// Imports the module as PowerShell 7 does (Assembly.LoadFrom into the default context, the
    /// module initializer, then reflection over the cmdlets' parameters), scans TREE through the
    /// engine (which reads YAML through ImageTools.Yaml) and prints what it saw as key=value lines
    /// for the tests.
    /// </summary>
    internal static class Program
    {
        private static int Main(string[] args)
        {
            var (module, tree, other, resolver, scratch) = (args[0], args[1], args[2], args[3], args[4]);
            try
            {
                var otherYaml = WriteOtherYamlDotNet(scratch);
                var otherDocker = WriteOther(scratch, "Docker.DotNet", new Version(3, 125, 0, 0), "Docker.DotNet.OtherModuleMarker");
                if (other == "before") Report("other.loaded", Assembly.LoadFrom(otherYaml).GetName().Version);
                if (other == "before") Report("other.docker.loaded", Assembly.LoadFrom(otherDocker).GetName().Version);

                var cmdlets = Assembly.LoadFrom(Path.Combine(module, "ImageTools.Commands.dll"));
                var exported = cmdlets.ExportedTypes.ToList();
                if (resolver == "import")
                {
                    foreach (var type in exported.Where(t => typeof(IModuleAssemblyInitializer).IsAssignableFrom(t)))
                        ((IModuleAssemblyInitializer)Activator.CreateInstance(type)!).OnImport();
                }
                else
                {
                    var isolation = cmdlets.GetType("ImageTools.Commands.DependencyIsolation", throwOnError: true)!;
                    isolation.GetMethod("InstallResolveHandler", BindingFlags.Static | BindingFlags.NonPublic)!
                        .Invoke(null, new object[] { Path.Combine(module, "dependencies") });
                }

                // PowerShell's cmdlet metadata: every parameter's type, which is where engine types
                // (ImageNode, BuildResult) are first needed.
                var parameterTypes = exported.Where(t => typeof(Cmdlet).IsAssignableFrom(t))
                    .SelectMany(t => t.GetProperties()).Select(p => p.PropertyType).ToList();
                var engine = parameterTypes.Select(t => t.IsArray ? t.GetElementType()! : t)
                    .Select(t => t.Assembly).First(a => a.GetName().Name == "ImageTools.Engine");
                Report("engine.path", engine.Location);
                Report("engine.context", AssemblyLoadContext.GetLoadContext(engine)!.Name);

                var scan = engine.GetType("ImageTools.Definitions.TreeScanner", throwOnError: true)!.GetMethod("Scan")!;
                var scanned = scan.Invoke(null, new object[] { tree, CancellationToken.None })!;
                var images = ((IEnumerable)scanned.GetType().GetProperty("Images")!.GetValue(scanned)!).Cast<object>().ToList();
                Report("images", images.Count);
                var runtime = images.Single(i => (string?)Get(i, "Name") == "runtime");
                Report("runtime.version", $"{Get(runtime, "Version")} from {Get(runtime, "VersionSource")}");

                // The engine reads YAML through ImageTools.Yaml; where it and its YamlDotNet were loaded.
                var reader = AppDomain.CurrentDomain.GetAssemblies().Single(a => a.GetName().Name == "ImageTools.Yaml");
                Report("reader.path", reader.Location);
                Report("reader.context", AssemblyLoadContext.GetLoadContext(reader)!.Name);
                var readerYaml = AssemblyLoadContext.GetLoadContext(reader)!.Assemblies.Single(a => a.GetName().Name == "YamlDotNet");
                Report("reader.yaml", $"{readerYaml.GetName().Version} {readerYaml.Location}");
                // What a script's [ImageTools.Graph.ImageNode] finds: the engine's type, from PowerShell's context.
                Report("type.literal", Type.GetType("ImageTools.Graph.ImageNode, ImageTools.Engine")?.Assembly == engine);

                // The engine over the Engine API, as the cmdlets create it: Docker.DotNet must really
                // run (it connects, and reports the socket that is not there).
                // (Only with dependencies/: the flat control layout is about YamlDotNet's conflict.)
                if (Directory.Exists(Path.Combine(module, "dependencies"))) ReportEngineApi();

                if (other == "after") Report("other.loaded", Assembly.LoadFrom(otherYaml).GetName().Version);
                if (other == "after") Report("other.docker.loaded", Assembly.LoadFrom(otherDocker).GetName().Version);
                var defaultDocker = AssemblyLoadContext.Default.Assemblies.Where(a => a.GetName().Name == "Docker.DotNet").ToList();
                Report("default.docker", string.Join(",", defaultDocker.Select(a => $"{a.GetName().Version} {a.Location}")));
                var defaultYaml = AssemblyLoadContext.Default.Assemblies.Where(a => a.GetName().Name == "YamlDotNet").ToList();
                Report("default.yaml", string.Join(",", defaultYaml.Select(a => $"{a.GetName().Version} {a.Location}")));
                Report("default.yaml.marker", defaultYaml.Any(a => a.GetType("YamlDotNet.OtherModuleMarker") != null));

                // Names the resolvers must leave alone: one not in dependencies/, and (with no other
                // YamlDotNet loaded) ours, which must not leak into the default context.
                Report("resolves.unknown", CanLoad("ImageTools.NoSuchAssembly"));
                if (other == "none") Report("resolves.yaml", CanLoad("YamlDotNet"));
                return 0;
            }
            catch (Exception e)
            {
                while (e is TargetInvocationException { InnerException: { } inner }) e = inner;
                Report("error", $"{e.GetType().FullName}: {e.Message}".ReplaceLineEndings(" "));
                Console.Error.WriteLine(e);
                return 1;
            }
        }

        /// <summary>The engine over the Engine API, as the cmdlets create it: Docker.DotNet must really run.</summary>
        private static void ReportEngineApi()
        {
            var api = AssemblyLoadContext.Default.LoadFromAssemblyName(new AssemblyName("ImageTools.Docker.Api"));
            Report("api.context", AssemblyLoadContext.GetLoadContext(api)!.Name);
            Report("api.path", api.Location);
            var create = api.GetType("ImageTools.Docker.Api.DockerEngineFactory", throwOnError: true)!.GetMethod("Create")!;
            var environment = new System.Collections.Generic.Dictionary<string, string?> { ["DOCKER_HOST"] = "unix:///nonexistent/imagetools-isolation.sock" };
            var dockerEngine = create.Invoke(null, new object?[] { environment, null, false })!;
            var version = (System.Threading.Tasks.Task)dockerEngine.GetType().GetMethod("GetVersionAsync")!.Invoke(dockerEngine, new object[] { CancellationToken.None })!;
            try { version.GetAwaiter().GetResult(); Report("api.version", "answered"); }
            catch (Exception e) { Report("api.version", e.GetType().GetProperty("ErrorId")?.GetValue(e) ?? e.GetType().FullName); }
            var docker = AssemblyLoadContext.GetLoadContext(api)!.Assemblies.Single(a => a.GetName().Name == "Docker.DotNet");
            Report("api.docker", $"{docker.GetName().Version} {docker.Location}");
            // The System.Text.Json that Docker.DotNet's reference binds to in its context.
            var jsonReference = docker.GetReferencedAssemblies().Single(r => r.Name == "System.Text.Json");
            var json = AssemblyLoadContext.GetLoadContext(docker)!.LoadFromAssemblyName(jsonReference);
            Report("api.json", $"{AssemblyLoadContext.GetLoadContext(json)!.Name} {json.Location}");
        }

        private static object? Get(object o, string property) => o.GetType().GetProperty(property)!.GetValue(o);

        private static bool CanLoad(string name)
        {
            try { return AssemblyLoadContext.Default.LoadFromAssemblyName(new AssemblyName(name)) != null; }
            catch (FileNotFoundException) { return false; }
        }

        private static void Report(string key, object? value) => Console.WriteLine($"{key}={value}");

        /// <summary>Another module's copy of <paramref name="assembly"/>, with a type ours does not have.</summary>
        private static string WriteOther(string scratch, string assembly, Version version, string marker)
        {
            var builder = new PersistedAssemblyBuilder(new AssemblyName(assembly) { Version = version }, typeof(object).Assembly);
            builder.DefineDynamicModule(assembly + ".dll").DefineType(marker, TypeAttributes.Public).CreateType();
            var path = Path.Combine(Directory.CreateDirectory(Path.Combine(scratch, "other-module")).FullName, assembly + ".dll");
            builder.Save(path);
            return path;
        }

        /// <summary>Another module's YamlDotNet: version 11, with a type ours does not have.</summary>
        private static string WriteOtherYamlDotNet(string scratch)
        {
            var name = new AssemblyName("YamlDotNet") { Version = new Version(11, 0, 0, 0) };
            var builder = new PersistedAssemblyBuilder(name, typeof(object).Assembly);
            builder.DefineDynamicModule("YamlDotNet.dll").DefineType("YamlDotNet.OtherModuleMarker", TypeAttributes.Public).CreateType();
            var path = Path.Combine(Directory.CreateDirectory(Path.Combine(scratch, "other-module")).FullName, "YamlDotNet.dll");
            builder.Save(path);
            return path;
        }
    }
}

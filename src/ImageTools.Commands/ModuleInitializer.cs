using System;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Reflection;

namespace ImageTools.Commands
{
    /// <summary>
    /// Makes the module load beside other modules that ship another YamlDotNet, Docker.DotNet,
    /// System.Text.Json or Microsoft.Extensions.Logging.Abstractions. The laid-out module holds the
    /// cmdlets and the engine at its root; the engine's YAML reader (ImageTools.Yaml) with YamlDotNet,
    /// and the Engine API adapter (ImageTools.Docker.Api) with Docker.DotNet and its dependencies, are
    /// in <c>dependencies/</c>, where PowerShell does not look, so their first use asks the resolvers
    /// installed here. No public type of the cmdlets or the engine mentions a type of either, so
    /// PowerShell's look at the public types before <see cref="OnImport"/> does not need them.
    /// </summary>
    public sealed class ModuleInitializer : IModuleAssemblyInitializer, IModuleAssemblyCleanup
    {
        /// <summary>Installs the resolver for this runtime (once per process).</summary>
        public void OnImport() => DependencyIsolation.Install();

        /// <summary>Removes the resolver again.</summary>
        public void OnRemove(PSModuleInfo psModuleInfo) => DependencyIsolation.Uninstall();
    }

    /// <summary>
    /// PowerShell 7: an isolated load context (ImageTools.Isolation, net8.0, loaded by reflection
    /// because this assembly stays netstandard2.0 for 5.1). Windows PowerShell 5.1: an
    /// AppDomain.AssemblyResolve handler; .NET Framework has no load contexts, but YamlDotNet is
    /// strong-named, so ours loads side by side with another version in the LoadFrom context.
    /// </summary>
    internal static class DependencyIsolation
    {
        internal const string FolderName = "dependencies";
        internal const string IsolationAssembly = "ImageTools.Isolation";

        private static readonly object Gate = new object();
        private static IDisposable? _installed;

        /// <summary>dependencies/ beside this assembly; absent in build outputs, where everything sits side by side.</summary>
        internal static string Folder => Path.Combine(Path.GetDirectoryName(typeof(DependencyIsolation).Assembly.Location)!, FolderName);

        private static bool IsNetFramework => typeof(object).Assembly.GetName().Name == "mscorlib";

        public static void Install()
        {
            lock (Gate)
            {
                if (_installed != null || !Directory.Exists(Folder)) return;
                _installed = IsNetFramework ? InstallResolveHandler(Folder) : InstallLoadContext(Folder);
            }
        }

        public static void Uninstall()
        {
            lock (Gate)
            {
                _installed?.Dispose();
                _installed = null;
            }
        }

        private static IDisposable InstallLoadContext(string folder)
        {
            var isolation = Assembly.LoadFrom(Path.Combine(folder, IsolationAssembly + ".dll"));
            var install = isolation.GetType(IsolationAssembly + ".DependencyLoadContext", throwOnError: true)!.GetMethod("Install")!;
            // The assemblies that reference what dependencies/ holds: the engine (ImageTools.Yaml) and
            // these cmdlets (ImageTools.Docker.Api, which creates the engine over Docker.DotNet).
            var hooks = new[] { typeof(ImageTools.Definitions.TreeScanner).Assembly, typeof(DependencyIsolation).Assembly }
                .Select(requester => (IDisposable)install.Invoke(null, new object[] { folder, requester })!).ToList();
            return new Unhook(() => hooks.ForEach(hook => hook.Dispose()));
        }

        internal static IDisposable InstallResolveHandler(string folder)
        {
            ResolveEventHandler handler = (sender, args) =>
            {
                var path = PathOf(folder, new AssemblyName(args.Name));
                return path == null ? null : Assembly.LoadFrom(path);
            };
            AppDomain.CurrentDomain.AssemblyResolve += handler;
            return new Unhook(() => AppDomain.CurrentDomain.AssemblyResolve -= handler);
        }

        /// <summary>
        /// The file in <paramref name="folder"/> that satisfies <paramref name="requested"/>, or null
        /// when it is not one of ours. An older request is answered with the shipped version, as a
        /// binding redirect would; a newer one is not.
        /// </summary>
        internal static string? PathOf(string folder, AssemblyName requested)
        {
            var name = requested.Name;
            if (string.IsNullOrEmpty(name) || name!.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || name == IsolationAssembly) return null;
            var path = Path.Combine(folder, name + ".dll");
            if (!File.Exists(path)) return null;
            if (requested.Version != null && AssemblyName.GetAssemblyName(path).Version < requested.Version) return null;
            return path;
        }

        private sealed class Unhook : IDisposable
        {
            private Action? _action;
            public Unhook(Action action) => _action = action;
            public void Dispose()
            {
                _action?.Invoke();
                _action = null;
            }
        }
    }
}

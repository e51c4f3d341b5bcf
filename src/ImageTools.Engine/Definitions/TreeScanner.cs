using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using ImageTools.Formats;
using ImageTools.Formats.Changelogs;
using ImageTools.Formats.Control;
using ImageTools.Formats.Dockerfiles;
using ImageTools.Formats.Templates;
using ImageTools.References;

namespace ImageTools.Definitions
{
    /// <summary>
    /// Finds the image directories under a root and reads each into an <see cref="ImageDefinition"/>.
    /// Two passes: names and versions first, because templates (<c>image_tag</c>) need every
    /// sibling's version before any Dockerfile can be rendered.
    /// </summary>
    internal static class TreeScanner
    {
        public const string DockerfileName = "Dockerfile";
        public const string TemplateName = "Dockerfile.template";
        public const string ChangelogName = "changelog";
        public const string ControlName = "control";
        public const string TestScriptName = "test.sh";
        public const string TestPowerShellScriptName = "test.ps1";

        public static ImageTree Scan(string root, CancellationToken cancellationToken = default)
        {
            var fullRoot = Path.GetFullPath(root);
            if (File.Exists(fullRoot) && Path.GetFileName(fullRoot) == DockerImagesList.FileName) return ScanImageList(fullRoot, cancellationToken);
            if (File.Exists(fullRoot) && BuilderFile.IsCandidate(Path.GetFileName(fullRoot))) return ScanBuilderFile(fullRoot, cancellationToken);
            if (File.Exists(fullRoot))
                throw new ImageToolsException("TreeNotFound", FaultKind.ObjectNotFound,
                    $"This is a file, not an image tree directory. Pass -Path with the directory that holds the image directories, a docker_images file, or a builder file ({BuilderFile.FileNames[0]}).",
                    fullRoot);
            if (!Directory.Exists(fullRoot)) throw TreeNotFound(fullRoot);

            var config = TreeConfig.Load(fullRoot);
            var directories = FindImageDirectories(fullRoot, cancellationToken);
            var errors = new ConcurrentBag<ImageToolsException>();
            var warnings = new ConcurrentBag<TreeWarning>();
            var options = new ParallelOptions { CancellationToken = cancellationToken };
            var git = new GitContextResolver();

            var read = new ConcurrentBag<ImageDefinition>();
            Parallel.ForEach(directories, options, directory =>
            {
                try { read.Add(ReadDefinition(directory, config, warnings, git, cancellationToken)); }
                catch (ImageToolsException e) { errors.Add(e); }
            });
            return Complete(fullRoot, config, read, warnings, errors, options);
        }

        /// <summary>
        /// A tree described by docker_build's docker_images file (Get-ImageGraph -Path ./docker_images): each line
        /// an image, its name (and tag) from the file, its directory read like any image directory, its build options
        /// as image settings. Short names get docker_build's DOCKER_ACCOUNT (else the tree config's registry and namespace).
        /// </summary>
        private static ImageTree ScanImageList(string file, CancellationToken cancellationToken)
        {
            var entries = DockerImagesList.Parse(ReadText(file, keepByteOrderMark: false), file);
            return ScanListed(file, entries.Select(e => e.Name).ToList(),
                (i, root, config, warnings, git) => ReadListedDefinition(entries[i], file, root, config, warnings, git, cancellationToken), cancellationToken);
        }

        /// <summary>
        /// A tree described by the 2014 YAML builder's file (Get-ImageGraph -Path ./builder.yaml): each item of
        /// <c>builder.images</c> an image, named by the file, read from its <c>path</c> like any image directory.
        /// <c>from</c> naming another image of the file is an edge (as a control file's Depends); an external
        /// <c>from</c> that the Dockerfile does not build on is a warning, since the Dockerfile is what is built.
        /// </summary>
        private static ImageTree ScanBuilderFile(string file, CancellationToken cancellationToken)
        {
            var entries = BuilderFile.Load(file);
            var names = new HashSet<string>(entries.Select(e => e.Name.Substring(e.Name.LastIndexOf('/') + 1)), StringComparer.Ordinal);
            var tree = ScanListed(file, entries.Select(e => e.Name).ToList(),
                (i, root, config, warnings, git) => ReadBuilderDefinition(entries[i], names, file, root, config, warnings, git, cancellationToken), cancellationToken);
            var extra = new List<TreeWarning>();
            foreach (var entry in entries)
            {
                var name = entry.Name.Substring(entry.Name.LastIndexOf('/') + 1);
                var image = tree.Images.First(i => i.Name == name);
                if (IsTreeImage(entry.From, names) != null || image.FinalBase == null) continue;
                if (!ImageReference.TryParse(entry.From, out var from, out _) || !ImageReference.TryParse(image.FinalBase.Reference, out var built, out _) || !from!.Equals(built))
                    extra.Add(new TreeWarning(
                        $"'from: {entry.From}' of {name}, but its Dockerfile builds on {image.FinalBase.Reference}; the Dockerfile is what is built. Make them agree.",
                        file, entry.FromLine, name));
            }
            return extra.Count == 0 ? tree : new ImageTree(tree.Root, tree.Config, tree.Images, tree.Warnings.Concat(extra).OrderBy(w => w.FilePath, StringComparer.Ordinal).ThenBy(w => w.Line).ToList());
        }

        /// <summary>The image of the file <paramref name="from"/> names (name[:tag], with or without the file's registry and namespace), else null.</summary>
        private static string? IsTreeImage(string from, HashSet<string> names)
        {
            var withoutTag = from.LastIndexOf(':') is var colon && colon > from.LastIndexOf('/') ? from.Substring(0, colon) : from;
            var last = withoutTag.Substring(withoutTag.LastIndexOf('/') + 1);
            return names.Contains(withoutTag) ? withoutTag : names.Contains(last) && withoutTag.Contains("/") ? last : null;
        }

        /// <summary>A tree of images a list file names: one registry and namespace for all (the names' own prefix, else DOCKER_ACCOUNT, else the tree config).</summary>
        private static ImageTree ScanListed(string file, IReadOnlyList<string> fullNames,
            Func<int, string, TreeConfig, ConcurrentBag<TreeWarning>, GitContextResolver, ImageDefinition> readEntry, CancellationToken cancellationToken)
        {
            var root = Path.GetDirectoryName(file)!;
            var config = TreeConfig.Load(root);
            var account = Environment.GetEnvironmentVariable("DOCKER_ACCOUNT") is { Length: > 0 } fromEnvironment ? fromEnvironment.TrimEnd('/')
                : config.Registry == null && config.Namespace == null ? null
                : string.Join("/", new[] { config.Registry, config.Namespace }.Where(p => p != null));
            var prefixes = fullNames.Select(n => n.LastIndexOf('/') is var slash && slash > 0 ? n.Substring(0, slash) : account)
                .Where(p => p != null).Distinct(StringComparer.Ordinal).ToList();
            if (prefixes.Count > 1)
                throw new ImageToolsException("ImageListMixedRepositories", FaultKind.InvalidData,
                    $"The images of {file} are published under {string.Join(", ", prefixes)}; ImageTools publishes one tree to one registry and namespace. " +
                    "Split the file, or use short names with one DOCKER_ACCOUNT.", file);
            if (prefixes.Count == 1)
            {
                var prefix = ImageReference.Parse(prefixes[0] + "/x");
                config = config.WithRepository(prefix.Registry ?? ImageReference.DockerHub, prefix.Repository.Length > 2 ? prefix.Repository.Substring(0, prefix.Repository.Length - 2) : null);
            }

            var errors = new ConcurrentBag<ImageToolsException>();
            var warnings = new ConcurrentBag<TreeWarning>();
            var options = new ParallelOptions { CancellationToken = cancellationToken };
            var git = new GitContextResolver();
            var read = new ConcurrentBag<ImageDefinition>();
            Parallel.For(0, fullNames.Count, options, i =>
            {
                try { read.Add(readEntry(i, root, config, warnings, git)); }
                catch (ImageToolsException e) { errors.Add(e); }
            });
            return Complete(root, config, read, warnings, errors, options);
        }

        private static ImageDefinition ReadBuilderDefinition(BuilderEntry entry, HashSet<string> names, string file, string root, TreeConfig config,
            ConcurrentBag<TreeWarning> warnings, GitContextResolver git, CancellationToken cancellationToken)
        {
            var name = entry.Name.Substring(entry.Name.LastIndexOf('/') + 1);
            var directory = Path.GetFullPath(Path.Combine(root, entry.Directory));
            if (!Directory.Exists(directory))
                throw new ImageToolsException("BuilderFileInvalid", FaultKind.ObjectNotFound,
                    $"The directory '{entry.Directory}' of {entry.Name} does not exist ({directory}). Set 'path' to the image's directory (relative to the file) or create it.",
                    file, entry.DirectoryLine, name);
            if (!ImageReference.TryParse(entry.From, out _, out var fromError))
                throw new ImageToolsException("BuilderFileInvalid", FaultKind.InvalidData,
                    $"'from: {entry.From}' of {entry.Name} is not an image reference ({fromError}). Name an image of this file or one such as debian:bookworm.",
                    file, entry.FromLine, name);
            var image = ReadDefinition(directory, config, warnings, git, cancellationToken,
                new Listed(name, entry.Tag, file, entry.Line, entry.Context, entry.ContextLine, entry.Dockerfile, entry.DockerfileLine));
            if (entry.Tags.Count > 0)
            {
                foreach (var tag in entry.Tags) ValidateTag(tag, file, entry.Line, name, "An extra tag must be a valid image tag.");
                image.ExtraTags = image.ExtraTags.Concat(entry.Tags).Distinct(StringComparer.Ordinal).ToList();
            }
            if (entry.BuildArgs.Count > 0) image.BuildArgs = Dictionaries.Overlay(image.BuildArgs, entry.BuildArgs);
            if (entry.Target != null) image.Target = entry.Target;
            if (IsTreeImage(entry.From, names) is { } parent && parent != name)
                image.DeclaredDependencies = image.DeclaredDependencies.Append(new DeclaredDependency(parent, file, entry.FromLine)).ToList();
            return image;
        }

        private static ImageDefinition ReadListedDefinition(DockerImagesEntry entry, string file, string root, TreeConfig config, ConcurrentBag<TreeWarning> warnings,
            GitContextResolver git, CancellationToken cancellationToken)
        {
            var name = entry.Name.Substring(entry.Name.LastIndexOf('/') + 1);
            if (GitContextUrl.IsGitUrl(entry.Directory))
                throw new ImageToolsException("ImageListInvalid", FaultKind.InvalidData,
                    $"The Directory column of {entry.Name} holds a git URL; docker_build takes a local directory there, and so does ImageTools. " +
                    "List a directory whose image.yaml says 'context: URL' (docs/formats.md, \"Git contexts\").", file, entry.Line, name);
            var directory = Path.GetFullPath(Path.Combine(root, entry.Directory));
            if (!Directory.Exists(directory))
                throw new ImageToolsException("ImageListInvalid", FaultKind.ObjectNotFound,
                    $"The directory '{entry.Directory}' of {entry.Name} does not exist ({directory}). Fix the line or create the directory.", file, entry.Line, name);
            var image = ReadDefinition(directory, config, warnings, git, cancellationToken, new Listed(name, entry.Tag, file, entry.Line));
            var platforms = new List<string>(image.Platforms);
            var buildArgs = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var pair in image.BuildArgs) buildArgs[pair.Key] = pair.Value;
            for (var i = 0; i < entry.Options.Count; i++)
            {
                var option = entry.Options[i];
                var equals = option.IndexOf('=');
                var (key, value) = equals > 0 ? (option.Substring(0, equals), option.Substring(equals + 1))
                    : (option, i + 1 < entry.Options.Count && !entry.Options[i + 1].StartsWith("-", StringComparison.Ordinal) ? entry.Options[++i] : null);
                switch (key)
                {
                    case "--platform" when value != null:
                        platforms = value.Split(',').Select(p => p.Trim()).Where(p => p.Length > 0).ToList();
                        break;
                    case "--build-arg" when value != null && value.IndexOf('=') > 0:
                        buildArgs[value.Substring(0, value.IndexOf('='))] = value.Substring(value.IndexOf('=') + 1);
                        break;
                    case "--target" when value != null:
                        image.Target = value;
                        break;
                    default:
                        throw new ImageToolsException("ImageListInvalid", FaultKind.InvalidData,
                            $"The build option '{option}' of {entry.Name} is not one ImageTools takes from a docker_images file " +
                            "(--platform, --build-arg NAME=VALUE, --target). Put other settings in the directory's image.yaml.", file, entry.Line, name);
                }
            }
            image.Platforms = platforms;
            image.BuildArgs = buildArgs;
            return image;
        }

        /// <summary>The definitions read, checked together: names, Dockerfiles (templates rendered), warnings in file order.</summary>
        private static ImageTree Complete(string fullRoot, TreeConfig config, ConcurrentBag<ImageDefinition> read, ConcurrentBag<TreeWarning> warnings,
            ConcurrentBag<ImageToolsException> errors, ParallelOptions options)
        {
            ThrowIfAny(fullRoot, errors);

            var images = read.OrderBy(i => i.Name, StringComparer.Ordinal).ToList();
            RejectDuplicateNames(images, errors);
            ThrowIfAny(fullRoot, errors);

            var byName = images.ToDictionary(i => i.Name, StringComparer.Ordinal);
            // docker-pkg's image_tag: an image of the tree under its version, else a config base_images entry
            // of the same full name ([registry/][namespace/]name), with the tag it is written with.
            string? ResolveImageTag(string name)
            {
                if (byName.TryGetValue(name, out var image)) return ImageTree.RepositoryOf(config, name).WithTag(image.Tag).ToString();
                if (!ImageReference.IsValidRepository(name)) return null;
                var repository = ImageTree.RepositoryOf(config, name).Name;
                return config.BaseImages.FirstOrDefault(b => ImageReference.TryParse(b, out var known, out _) && known!.Tag != null && known.Name == repository);
            }
            var renderer = new TemplateRenderer(config.Variables, ResolveImageTag);

            Parallel.ForEach(images, options, image =>
            {
                try { ReadDockerfile(image, renderer); }
                catch (ImageToolsException e) { errors.Add(e); }
            });
            ThrowIfAny(fullRoot, errors);

            var orderedWarnings = warnings.OrderBy(w => w.FilePath, StringComparer.Ordinal).ThenBy(w => w.Line).ToList();
            return new ImageTree(fullRoot, config, images, orderedWarnings);
        }

        /// <summary>The error for a tree root that does not exist, the same from every cmdlet.</summary>
        public static ImageToolsException TreeNotFound(string fullRoot, Exception? inner = null) =>
            new ImageToolsException("TreeNotFound", FaultKind.ObjectNotFound,
                "The image tree directory does not exist. Pass -Path with a directory that holds image directories.",
                fullRoot, inner: inner);

        /// <summary>
        /// Image names under <paramref name="root"/> for tab completion: best effort and quiet, so a
        /// half-edited tree still completes (a directory that fails to read offers its own name).
        /// </summary>
        public static IReadOnlyList<string> ListNames(string root)
        {
            try
            {
                // A list file names its images itself: no directory is read and no git context is asked.
                var fullPath = Path.GetFullPath(root);
                if (File.Exists(fullPath))
                {
                    var fileName = Path.GetFileName(fullPath);
                    var listed = fileName == DockerImagesList.FileName ? DockerImagesList.Parse(ReadText(fullPath), fullPath).Select(e => e.Name)
                        : BuilderFile.IsCandidate(fileName) ? BuilderFile.Load(fullPath).Select(e => e.Name)
                        : Enumerable.Empty<string>();
                    return listed.Select(n => n.Substring(n.LastIndexOf('/') + 1)).Distinct(StringComparer.Ordinal).OrderBy(n => n, StringComparer.Ordinal).ToList();
                }
                var config = TreeConfig.Load(root);
                var warnings = new ConcurrentBag<TreeWarning>();
                return FindImageDirectories(Path.GetFullPath(root))
                    .Select(directory =>
                    {
                        try { return ReadDefinition(directory, config, warnings, null, CancellationToken.None).Name; }
                        catch (ImageToolsException) { return Path.GetFileName(directory); }
                    })
                    .Distinct(StringComparer.Ordinal).OrderBy(n => n, StringComparer.Ordinal).ToList();
            }
            catch (Exception e) when (e is ImageToolsException || e is IOException || e is UnauthorizedAccessException)
            {
                return Array.Empty<string>();
            }
        }

        /// <summary>Directories holding a Dockerfile, a Dockerfile.template or an image.yaml; hidden ones are skipped.</summary>
        public static IReadOnlyList<string> FindImageDirectories(string root, CancellationToken cancellationToken = default)
        {
            var found = new List<string>();
            var pending = new Stack<DirectoryInfo>();
            pending.Push(new DirectoryInfo(root));
            while (pending.Count > 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var directory = pending.Pop();
                var isImage = false;
                foreach (var entry in directory.EnumerateFileSystemInfos())
                {
                    if (entry is DirectoryInfo child)
                    {
                        // Links could loop back up the tree; hidden folders hold VCS and tool state.
                        if (!child.Name.StartsWith(".", StringComparison.Ordinal) &&
                            (child.Attributes & FileAttributes.ReparsePoint) == 0)
                            pending.Push(child);
                    }
                    else if (entry.Name == DockerfileName || entry.Name == TemplateName || entry.Name == ImageSpec.FileName)
                    {
                        isImage = true;
                    }
                }
                if (isImage) found.Add(directory.FullName);
            }
            found.Sort(StringComparer.Ordinal);
            return found;
        }

        /// <summary>What a list file (docker_images, builder.yaml) says of one image: its name and tag, where, and a context it sets.</summary>
        private struct Listed
        {
            public Listed(string name, string? tag, string file, int line, string? context = null, int contextLine = 0, string? dockerfile = null, int dockerfileLine = 0)
            {
                Dockerfile = dockerfile;
                DockerfileLine = dockerfileLine;
                Name = name;
                Tag = tag;
                File = file;
                Line = line;
                Context = context;
                ContextLine = contextLine;
            }

            public string Name { get; }
            public string? Tag { get; }
            public string File { get; }
            public int Line { get; }
            public string? Context { get; }
            public int ContextLine { get; }
            public string? Dockerfile { get; }
            public int DockerfileLine { get; }
        }

        /// <summary>
        /// An image directory's definition; <paramref name="listed"/> is a list file's entry, whose name and tag name the image instead.
        /// <paramref name="git"/> resolves git contexts; null (tab completion) reads names without asking any remote.
        /// </summary>
        private static ImageDefinition ReadDefinition(string directory, TreeConfig config, ConcurrentBag<TreeWarning> warnings,
            GitContextResolver? git, CancellationToken cancellationToken, Listed? listed = null)
        {
            var specPath = Path.Combine(directory, ImageSpec.FileName);
            var spec = File.Exists(specPath) ? ImageSpec.Load(specPath) : null;

            var changelogPath = Path.Combine(directory, ChangelogName);
            var changelog = File.Exists(changelogPath) ? DebianChangelog.Parse(ReadText(changelogPath, keepByteOrderMark: true), changelogPath) : null;

            var (name, nameSource) = listed != null ? (listed.Value.Name, NameSource.ImageList)
                : spec?.Name != null ? (spec.Name, NameSource.ImageYaml)
                : changelog != null ? (changelog.Latest.Package, NameSource.Changelog)
                : (Path.GetFileName(directory), NameSource.Directory);
            ValidateName(name, nameSource, directory, spec, changelogPath, listed == null ? null : (listed.Value.File, listed.Value.Line));

            var (version, versionSource) = listed?.Tag != null ? (listed.Value.Tag, VersionSource.ImageList)
                : changelog != null ? (changelog.Latest.Version, VersionSource.Changelog)
                : spec?.Version != null ? (spec.Version, VersionSource.ImageYaml)
                : ((string?)null, VersionSource.None);
            if (version != null)
                ValidateTag(version, versionSource == VersionSource.ImageList ? listed!.Value.File : versionSource == VersionSource.Changelog ? changelogPath : specPath,
                    versionSource == VersionSource.ImageList ? listed!.Value.Line : versionSource == VersionSource.Changelog ? changelog!.Latest.Line : (int?)null, name,
                    "Its version cannot be used as an image tag. Use letters, digits, '.', '_' and '-' only (at most 128).");

            var image = new ImageDefinition(name, nameSource, version, versionSource, directory)
            {
                Spec = spec,
                Changelog = changelog,
                ChangelogPath = changelog != null ? changelogPath : null,
            };
            var context = listed?.Context ?? spec?.Context;
            var (contextFile, contextLine) = listed?.Context != null ? (listed.Value.File, (int?)listed.Value.ContextLine) : (specPath, (int?)spec?.ContextLine);
            if (context != null && GitContextUrl.IsGitUrl(context))
            {
                ReadGitContext(image, context, contextFile, contextLine, git, cancellationToken);
                if (image.GitContext == null) return image; // names only (tab completion): no network
                if (File.Exists(Path.Combine(image.GitContext.CheckoutPath, ".gitmodules")))
                    warnings.Add(new TreeWarning(
                        $"The git context {image.GitContext.Url.Display} has submodules, which ImageTools does not fetch (docker build does): their directories are empty in the build context.",
                        contextFile, contextLine, name));
                LocateDockerfile(image, spec, warnings, image.ContextPath, listed);
                foreach (var unused in new[] { DockerfileName, TemplateName }.Select(f => Path.Combine(directory, f)).Where(File.Exists))
                    warnings.Add(new TreeWarning(
                        $"{Path.GetFileName(unused)} here is not used: the context is the git repository {image.GitContext.Url.Display}, whose Dockerfile is built. Remove the file to silence this.",
                        unused, imageName: name));
            }
            else
            {
                LocateDockerfile(image, spec, warnings, directory, listed);
                image.ContextPath = context != null ? Path.GetFullPath(Path.Combine(directory, context)) : directory;
                if (!Directory.Exists(image.ContextPath))
                    throw new ImageToolsException("ContextNotFound", FaultKind.ObjectNotFound,
                        $"The build context '{context}' does not exist ({image.ContextPath}). Fix 'context' or create the directory.",
                        contextFile, contextLine, name);
            }

            foreach (var tag in spec?.Tags ?? Array.Empty<string>())
                ValidateTag(tag, specPath, null, name, "An extra tag must be a valid image tag.");
            image.ExtraTags = spec?.Tags ?? Array.Empty<string>();
            image.BuildArgs = Dictionaries.Overlay(config.BuildArgs, spec?.BuildArgs);
            image.Labels = Dictionaries.Overlay(config.Labels, spec?.Labels);
            image.Target = spec?.Target;
            image.Platforms = spec?.Platforms ?? Array.Empty<string>();
            image.VerifyCommand = spec?.VerifyCommand;
            image.VerifyArgs = spec?.VerifyArgs;
            var testScript = Path.Combine(directory, TestScriptName);
            image.TestScriptPath = File.Exists(testScript) ? testScript : null;
            var testPowerShellScript = Path.Combine(directory, TestPowerShellScriptName);
            image.TestPowerShellScriptPath = File.Exists(testPowerShellScript) ? testPowerShellScript : null;
            image.DeclaredDependencies = ReadDeclaredDependencies(directory, spec, image);
            return image;
        }

        /// <summary>
        /// A context written as a git URL: the commit its ref names now (ls-remote), checked out in the
        /// cache (<see cref="GitContextResolver"/>). Without a resolver (tab completion) nothing is asked.
        /// </summary>
        private static void ReadGitContext(ImageDefinition image, string context, string? file, int? line, GitContextResolver? git, CancellationToken cancellationToken)
        {
            GitContextUrl url;
            try { url = GitContextUrl.Parse(context); }
            catch (FormatException e)
            {
                throw new ImageToolsException("GitContextInvalid", FaultKind.InvalidData,
                    $"The git context of {image.Name} cannot be read: {e.Message}. Write it as docker build takes it: https://host/repo.git#ref:dir " +
                    "(or git@host:repo.git, git://, ssh://, file://), the ref and the directory optional.",
                    file, line, image.Name);
            }
            if (git == null) return;
            var resolved = git.Resolve(url, image.Name, file, line, cancellationToken);
            if (!Directory.Exists(resolved.ContextPath))
                throw new ImageToolsException("GitContextDirectoryNotFound", FaultKind.ObjectNotFound,
                    $"The git context of {image.Name}, {url.Display}, names the directory '{url.Directory}', which commit {resolved.Commit} ({resolved.ResolvedRef}) does not have. " +
                    "Fix the directory after ':' in the URL, or push it.",
                    file, line, image.Name);
            image.GitContext = resolved;
            image.ContextPath = resolved.ContextPath;
        }

        /// <param name="image">The image.</param>
        /// <param name="spec">Its image.yaml, whose 'dockerfile' is relative to <paramref name="directory"/>.</param>
        /// <param name="warnings">Where a Dockerfile beside a template is reported.</param>
        /// <param name="directory">The image directory, or a git context's directory (as docker build reads -f in a remote context).</param>
        /// <param name="listed">A list file's entry, whose 'dockerfile' comes before image.yaml's.</param>
        private static void LocateDockerfile(ImageDefinition image, ImageSpec? spec, ConcurrentBag<TreeWarning> warnings, string directory, Listed? listed)
        {
            var (setting, file, line) = listed?.Dockerfile != null ? (listed.Value.Dockerfile, listed.Value.File, (int?)listed.Value.DockerfileLine)
                : (spec?.Dockerfile, spec?.FilePath, (int?)spec?.DockerfileLine);
            if (setting != null)
            {
                var path = Path.GetFullPath(Path.Combine(directory, setting));
                if (image.GitContext != null && !path.StartsWith(image.GitContext.CheckoutPath + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                    throw new ImageToolsException("DockerfileNotFound", FaultKind.InvalidData,
                        $"'dockerfile: {setting}' leaves the git context's repository; with a git context it is a path inside the repository, relative to the context directory.",
                        file, line, image.Name);
                if (!File.Exists(path))
                    throw new ImageToolsException("DockerfileNotFound", FaultKind.ObjectNotFound,
                        $"'dockerfile' points at {path}, which does not exist. Fix the path (relative to {directory}) or create the file.",
                        file, line, image.Name);
                image.DockerfilePath = path;
                image.IsTemplate = path.EndsWith(".template", StringComparison.Ordinal);
                return;
            }
            var template = Path.Combine(directory, TemplateName);
            var plain = Path.Combine(directory, DockerfileName);
            if (File.Exists(template))
            {
                if (File.Exists(plain))
                    warnings.Add(new TreeWarning(
                        $"Both {DockerfileName} and {TemplateName} exist; the template is used (as docker-pkg does). Remove one to silence this.",
                        directory, imageName: image.Name));
                image.DockerfilePath = template;
                image.IsTemplate = true;
            }
            else if (File.Exists(plain))
            {
                image.DockerfilePath = plain;
            }
            else if (image.GitContext != null)
            {
                throw new ImageToolsException("DockerfileNotFound", FaultKind.ObjectNotFound,
                    $"The git context {image.GitContext.Url.Display} has no {DockerfileName} or {TemplateName} in its directory at commit {image.GitContext.Commit}. " +
                    $"Set 'dockerfile' in {ImageSpec.FileName} (a path inside the repository, relative to the context directory), or fix the directory after ':' in the URL.",
                    spec?.FilePath ?? image.Directory, spec?.ContextLine, image.Name);
            }
            else
            {
                throw new ImageToolsException("DockerfileNotFound", FaultKind.ObjectNotFound,
                    $"There is no {DockerfileName} or {TemplateName} here. Add one, or set 'dockerfile' in {ImageSpec.FileName}.",
                    spec?.FilePath ?? directory, imageName: image.Name);
            }
        }

        private static IReadOnlyList<DeclaredDependency> ReadDeclaredDependencies(string directory, ImageSpec? spec, ImageDefinition image)
        {
            var declared = new List<DeclaredDependency>();
            var controlPath = Path.Combine(directory, ControlName);
            if (File.Exists(controlPath))
            {
                image.ControlPath = controlPath;
                var control = ControlFile.Parse(ReadText(controlPath), controlPath);
                declared.AddRange(control.Dependencies.Select(d => new DeclaredDependency(d.Name, controlPath, d.Line)));
            }
            if (spec != null)
                declared.AddRange(spec.Depends.Select(name => new DeclaredDependency(name, spec.FilePath!, spec.DependsLine)));
            return declared;
        }

        private static void ReadDockerfile(ImageDefinition image, TemplateRenderer renderer)
        {
            var text = ReadText(image.DockerfilePath);
            if (image.IsTemplate) text = renderer.Render(text, image.DockerfilePath);
            image.DockerfileText = text;
            image.Dockerfile = DockerfileParser.Parse(text, image.DockerfilePath, image.BuildArgs);
            var built = image.Target == null ? image.Dockerfile.FinalStage : image.Dockerfile.FindStage(image.Target)
                ?? throw new ImageToolsException("UnknownTarget", FaultKind.InvalidData,
                    $"'target: {image.Target}' names no stage of {image.DockerfilePath}. Known stages: " +
                    $"{string.Join(", ", image.Dockerfile.Stages.Select(s => s.Alias ?? s.Index.ToString(System.Globalization.CultureInfo.InvariantCulture)))}.",
                    image.Spec?.FilePath, image.Spec?.TargetLine, image.Name);
            var needed = new HashSet<ImageUse>(image.Dockerfile.ImageUsesFor(image.Target));
            image.ImageUses = image.Dockerfile.ImageUses.Where(u => u.StageIndex <= built.Index || needed.Contains(u)).ToList();
            image.FinalBase = image.Dockerfile.BaseImageOf(built);
        }

        private static void RejectDuplicateNames(IEnumerable<ImageDefinition> images, ConcurrentBag<ImageToolsException> errors)
        {
            foreach (var group in images.GroupBy(i => i.Name, StringComparer.Ordinal).Where(g => g.Count() > 1))
            {
                var places = string.Join(" and ", group.Select(i => i.Directory));
                errors.Add(new ImageToolsException("DuplicateImageName", FaultKind.ResourceExists,
                    $"Image name '{group.Key}' is claimed by {places}. Give one of them another name (image.yaml 'name' or its changelog).",
                    group.First().Directory, imageName: group.Key));
            }
        }

        private static void ValidateName(string name, NameSource source, string directory, ImageSpec? spec, string changelogPath, (string File, int Line)? listedAt = null)
        {
            var (file, line, fix) = source switch
            {
                NameSource.ImageList => (listedAt!.Value.File, (int?)listedAt.Value.Line, "Fix the name in the docker_images line"),
                NameSource.ImageYaml => (spec!.FilePath, (int?)spec.NameLine, "Fix 'name'"),
                NameSource.Changelog => (changelogPath, (int?)1, "Fix the package name in the top changelog entry"),
                _ => (directory, (int?)null, $"Rename the directory or set 'name' in {ImageSpec.FileName}"),
            };
            if (!ImageReference.TryParse(name, out var parsed, out var error) || parsed!.Registry != null || parsed.Tag != null || parsed.Digest != null)
                throw new ImageToolsException("InvalidImageName", FaultKind.InvalidData,
                    $"'{name}' is not a valid image name ({error ?? "it must be a repository path without registry, tag or digest"}). " +
                    $"Names are lower-case letters, digits and separators (. _ - /). {fix}.",
                    file, line, name);
        }

        private static void ValidateTag(string tag, string? file, int? line, string image, string advice)
        {
            if (!ImageReference.IsValidTag(tag))
                throw new ImageToolsException("InvalidTag", FaultKind.InvalidData, $"'{tag}' is not a valid tag. {advice}", file, line, image);
        }

        /// <param name="path">The file to read.</param>
        /// <param name="keepByteOrderMark">For files Update-ImageChangelog rewrites: their text must give back every byte.</param>
        private static string ReadText(string path, bool keepByteOrderMark = false)
        {
            try { return keepByteOrderMark ? new System.Text.UTF8Encoding(false).GetString(File.ReadAllBytes(path)) : File.ReadAllText(path); }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw new ImageToolsException("FileUnreadable", FaultKind.ResourceUnavailable, $"Cannot read the file: {e.Message}", path, inner: e);
            }
        }

        private static void ThrowIfAny(string root, ConcurrentBag<ImageToolsException> errors)
        {
            if (errors.IsEmpty) return;
            var ordered = errors.OrderBy(e => e.FilePath, StringComparer.Ordinal).ThenBy(e => e.Line).ToList();
            throw new ImageTreeException(root, ordered);
        }
    }
}

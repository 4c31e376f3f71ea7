#!/usr/bin/env bash
# Checks the packages as a user gets them: packs the solution into a local feed, then, in a temporary folder outside
# the repository,
#   1. builds a console app from the README's DP-SGD quick start that references DiffPriv (from the feed) and
#      TorchSharp-cpu, runs it, and checks it prints ε;
#   2. builds a console app from the README's accounting snippet that references only DiffPriv.Accounting and
#      DiffPriv.Auditing, runs it, and checks its output folder holds no TorchSharp or libtorch file;
#   3. installs the diffpriv tool with `dotnet tool install --tool-path` and runs `diffpriv epsilon` and `--version`.
# Also checks that each package carries the licence and its readme. The last line is "N passed, N failed".
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
version="$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props | head -n 1)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
feed="$work/feed"
passed=0
failed=0
pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1${2:+: $2}"; failed=$((failed + 1)); }

echo "== packing DiffPriv $version into a local feed"
if ! dotnet pack DiffPriv.slnx -c Release -o "$feed" --nologo -v q >"$work/pack.log" 2>&1; then
  tail -n 20 "$work/pack.log"
  fail "dotnet pack"
  echo "$passed passed, $failed failed"
  exit 1
fi

# The NuGet cache keeps a package by id and version: drop earlier packs of this version so the checks use this one.
cache="${NUGET_PACKAGES:-$HOME/.nuget/packages}"
for id in diffpriv diffpriv.accounting diffpriv.auditing diffpriv.datasets diffpriv.distributed diffpriv.experiments diffpriv.cli; do
  rm -rf "${cache:?}/$id/$version"
done

for id in DiffPriv.Accounting DiffPriv.Auditing DiffPriv DiffPriv.Datasets DiffPriv.Distributed DiffPriv.Experiments DiffPriv.Cli; do
  pkg="$feed/$id.$version.nupkg"
  if [ ! -f "$pkg" ]; then
    fail "package $id" "no $pkg"
    continue
  fi
  listing="$(unzip -l "$pkg")"
  nuspec="$(unzip -p "$pkg" "$id.nuspec")"
  if grep -q ' LICENSE$' <<<"$listing" && grep -q ' README.md$' <<<"$listing" &&
     grep -q '<license type="expression">MIT</license>' <<<"$nuspec" && grep -q '<readme>README.md</readme>' <<<"$nuspec" &&
     [ -f "$feed/$id.$version.snupkg" ]; then
    pass "package $id (licence, readme, symbols)"
  else
    fail "package $id" "licence, readme or symbols missing"
  fi
done

cat >"$work/nuget.config" <<EOF
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="local" value="$feed" />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
  </packageSources>
</configuration>
EOF

# A C# block of the README: the first one that contains $1.
snippet() { awk -v key="$1" '/^```csharp/{inside=1; block=""; next} /^```/{if (inside && index(block, key)) {printf "%s", block; exit} inside=0; next} inside{block = block $0 "\n"}' README.md; }

new_app() { # folder, package references (id=version ...)
  local dir="$1"; shift
  mkdir -p "$dir"
  {
    echo '<Project Sdk="Microsoft.NET.Sdk">'
    echo '  <PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework><ImplicitUsings>enable</ImplicitUsings><Nullable>enable</Nullable><RuntimeIdentifier>linux-x64</RuntimeIdentifier><SelfContained>false</SelfContained></PropertyGroup>'
    echo '  <ItemGroup>'
    for ref in "$@"; do echo "    <PackageReference Include=\"${ref%%=*}\" Version=\"${ref#*=}\" />"; done
    echo '  </ItemGroup>'
    echo '</Project>'
  } >"$dir/App.csproj"
  cp "$work/nuget.config" "$dir/nuget.config"
}

echo "== 1. a console app with DiffPriv and TorchSharp-cpu: the README's DP-SGD quick start"
app="$work/dp-sgd-app"
new_app "$app" "DiffPriv=$version" "TorchSharp-cpu=0.107.0"
snippet "MakePrivate" >"$app/Program.cs"
if [ ! -s "$app/Program.cs" ]; then
  fail "DP-SGD console app" "the README has no C# block with MakePrivate"
elif ! (cd "$app" && dotnet build -c Release --nologo -v q >"$work/app1.log" 2>&1); then
  tail -n 20 "$work/app1.log"; fail "DP-SGD console app" "build failed"
elif ! out="$(cd "$app" && dotnet bin/Release/net10.0/linux-x64/App.dll 2>&1)"; then
  echo "$out" | tail -n 20; fail "DP-SGD console app" "run failed"
elif grep -Eq 'ε = [0-9]+\.[0-9]+' <<<"$out"; then
  echo "  $out"; pass "DP-SGD console app trains and prints ε"
else
  echo "$out"; fail "DP-SGD console app" "no ε in its output"
fi

echo "== 2. a console app with only DiffPriv.Accounting and DiffPriv.Auditing"
app="$work/accounting-app"
new_app "$app" "DiffPriv.Accounting=$version" "DiffPriv.Auditing=$version"
{ snippet "PldAccountant"; echo 'Console.WriteLine(typeof(DiffPriv.Auditing.MembershipInference.RocCurve).Assembly.GetName().Name);'; } >"$app/Program.cs"
if ! (cd "$app" && dotnet build -c Release --nologo -v q >"$work/app2.log" 2>&1); then
  tail -n 20 "$work/app2.log"; fail "accounting console app" "build failed"
else
  out="$(cd "$app" && dotnet bin/Release/net10.0/linux-x64/App.dll 2>&1)"
  torch="$(find "$app/bin" -iname '*torch*' | head -n 5)"
  if [ -n "$torch" ]; then
    fail "accounting console app" "TorchSharp or libtorch in its output: $torch"
  elif grep -q 'ε ∈ \[' <<<"$out" && grep -q 'DiffPriv.Auditing' <<<"$out"; then
    echo "  $out" | head -n 1; pass "accounting console app runs without any TorchSharp or libtorch file"
  else
    echo "$out"; fail "accounting console app" "unexpected output"
  fi
fi

echo "== 3. the diffpriv tool, installed from the feed"
tools="$work/tools"
if ! dotnet tool install DiffPriv.Cli --version "$version" --add-source "$feed" --tool-path "$tools" >"$work/tool.log" 2>&1; then
  cat "$work/tool.log"; fail "tool install"
else
  pass "tool install"
  out="$("$tools/diffpriv" epsilon --dataset-size 60000 --batch-size 256 --noise-multiplier 1.1 --epochs 60 2>&1)"
  if grep -q 'ε = 2.382' <<<"$out"; then pass "diffpriv epsilon from the installed tool"; else echo "$out"; fail "diffpriv epsilon from the installed tool"; fi
  out="$("$tools/diffpriv" --version 2>&1)"
  if [ "$out" = "$version" ]; then pass "diffpriv --version prints $version"; else fail "diffpriv --version" "printed '$out'"; fi
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

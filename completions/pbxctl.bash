# SPDX-License-Identifier: MIT
# bash completion for pbxctl: every candidate comes from `pbxctl __complete`, which knows
# the command table and asks the database for tenant slugs, usernames and device labels.
_pbxctl()
{
	local cur words cword
	if declare -F _init_completion >/dev/null; then
		_init_completion -n =: || return
	else
		cur=${COMP_WORDS[COMP_CWORD]}
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
	fi
	local out directive line
	out=$("${words[0]}" __complete -- "${words[@]:1:cword}" 2>/dev/null) || return
	directive=${out##*$'\n'}
	[[ $out == *$'\n'* ]] && out=${out%$'\n'*} || out=""
	COMPREPLY=()
	while IFS= read -r line; do
		[[ -n $line ]] && COMPREPLY+=("${line%%$'\t'*}")
	done <<<"$out"
	if [[ $directive == ":files" ]]; then
		COMPREPLY+=($(compgen -f -- "$cur"))
	fi
}
complete -F _pbxctl pbxctl

#!/usr/bin/env bats
# The answer in a model's text (lib/think/answer.c), through the test
# driver rk-answer-test: "extracted<TAB>normalized", or "-" and exit 1.

load helper

ans() { "$RK_BUILD/libexec/rk-answer-test" "$@"; }
tab=$'\t'

@test "answer: 'Answer: ...' on the last line" {
	run ans "$(printf 'She sells 16 - 3 - 4 = 9 eggs.\nAnswer: 18')"
	assert_status 0
	assert_output "18${tab}18"
}

@test "answer: 'Final answer:' wins over an earlier 'Answer:'" {
	run ans "$(printf 'Answer: 12 at first\nFinal answer: 18')"
	assert_status 0
	assert_output "18${tab}18"
}

@test "answer: '**Answer:** ...' in markdown" {
	run ans "$(printf 'Some reasoning.\n\n**Answer:** Yes, split it.')"
	assert_status 0
	assert_output "Yes, split it${tab}yes"
}

@test "answer: '**Final Answer:** \\boxed{18}'" {
	run ans -n "$(printf 'So 9 * 2 = 18.\n**Final Answer:** $\\boxed{18}$')"
	assert_status 0
	assert_output "18${tab}18"
}

@test "answer: a heading with the answer on the next line" {
	run ans "$(printf '## Final answer\n\nNo\n\nConfidence: 0.8')"
	assert_status 0
	assert_output "No${tab}no"
}

@test "answer: GSM8K '#### 18'" {
	run ans -n "$(printf 'Janet has 16 - 3 - 4 = <<16-3-4=9>>9 eggs.\n#### 18')"
	assert_status 0
	assert_output "18${tab}18"
}

@test "answer: 'A: 18'" {
	run ans "$(printf 'Q: how many?\nA: 18')"
	assert_status 0
	assert_output "18${tab}18"
}

@test "answer: 'The answer is 18.'" {
	run ans "Adding both gives 18, so the answer is 18."
	assert_status 0
	assert_output "18${tab}18"
}

@test "answer: 'the answer is' inside a longer sentence, then more text" {
	run ans -n "I think the answer is \$1,250.50! It was close."
	assert_status 0
	assert_output "1,250.50${tab}1250.5"
}

@test "answer: \\boxed{} with nested braces" {
	run ans "Thus \\boxed{\\frac{1}{2}} is it"
	assert_status 0
	assert_output "\\frac{1}{2}${tab}\\frac{1}{2}"
}

@test "answer: numeric question, no statement: the last number" {
	run ans -n "$(printf 'She has 16 eggs, eats 3 and bakes 4, leaving 9; at $2 each she makes 18 dollars.\nConfidence: 0.9')"
	assert_status 0
	assert_output "18${tab}18"
}

@test "answer: numeric question, the number after the last '='" {
	run ans -n "Answer: 9 * 2 = 18 dollars"
	assert_status 0
	assert_output "18${tab}18"
}

@test "answer: numeric question, a negative and a decimal" {
	run ans -n "The temperature fell to −4.50 degrees. Answer: -4.50"
	assert_status 0
	assert_output "-4.50${tab}-4.5"
	run ans -n "It drops by 3 then to −7"
	assert_status 0
	assert_output "−7${tab}-7"
}

@test "answer: a hyphen between numbers is not a sign" {
	run ans -n "pages 3-5"
	assert_status 0
	assert_output "5${tab}5"
}

@test "answer: none stated in a text question" {
	run ans "We should probably wait and see."
	assert_status 1
	assert_output "-"
	run ans -n "no numbers here"
	assert_status 1
}

@test "answer: a choice letter" {
	run ans "$(printf 'Option B fits best.\nAnswer: (B)')"
	assert_status 0
	assert_output "(B)${tab}B"
}

@test "normalize: numbers" {
	for pair in "1,000=1000" "\$18.00=18" "18.0=18" "-3.50=-3.5" \
	    "007=7" "0.50=0.5" "-0=0" "50%=50" "18 dollars=18" "+5=5" \
	    "1,234,567.890=1234567.89" "\$-2=-2" "−3=-3"; do
		run ans -c "${pair%%=*}"
		assert_output "${pair#*=}"
	done
}

@test "normalize: yes/no, choice letters, text" {
	for pair in "Yes=yes" "NO.=no" "no, because=no" "Not sure=not sure" \
	    "b=B" "(c)=C" "D)=D" "E.=E" "B: 14=B" "Option C=C" \
	    "choice (a)=A" "A dog=a dog" "**Paris**=paris" \
	    "  The   Eiffel Tower. =the eiffel tower" "\"quoted\"=quoted" \
	    "1,2=1,2"; do
		run ans -c "${pair%%=*}"
		assert_output "${pair#*=}"
	done
}

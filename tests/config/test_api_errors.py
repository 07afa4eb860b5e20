"""How a service's field errors read in the API."""

from config.api import nested_errors


def test_field_paths_nest_as_a_nested_serializers_errors_do():
    fields = {
        "name": ["At most 200 characters."],
        "sections[0].items[2].category": ["Unknown category 'vibes'."],
        "sections[0].items[2].key": ["Key 'a' is used twice."],
        "sections[1].title": ["This field is required."],
    }

    assert nested_errors(fields) == {
        "name": ["At most 200 characters."],
        "sections": {
            0: {"items": {2: {"category": ["Unknown category 'vibes'."], "key": ["Key 'a' is used twice."]}}},
            1: {"title": ["This field is required."]},
        },
    }


def test_messages_about_a_list_with_messages_inside_go_under_non_field_errors():
    fields = {"sections[0].title": ["This field is required."], "sections": ["At most 500 items in a template."]}
    assert nested_errors(fields) == {
        "sections": {
            0: {"title": ["This field is required."]},
            "non_field_errors": ["At most 500 items in a template."],
        }
    }
    reverse = dict(reversed(fields.items()))
    assert nested_errors(reverse) == nested_errors(fields)

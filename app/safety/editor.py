"""Organisers change the checklist: its rules (minimum age, weight limit) and its items."""

from flask import flash, redirect, render_template, request, url_for

from app.auth.roles import roles_required
from app.models import Role
from app.safety import bp, checklist, forms, service


@bp.route("/checklist", methods=["GET", "POST"])
@roles_required(Role.ORGANISER)
def edit_checklist():
    """The list in order, with its rules: minimum age, weight limit, on-the-day window."""
    form = forms.SettingsForm(obj=checklist.settings())
    if form.validate_on_submit():
        checklist.update_settings(
            form.min_age.data, form.weight_limit_kg.data, form.on_the_day_hours_before.data
        )
        flash("The rules are saved.", "success")
        return redirect(url_for("safety.edit_checklist"), 303)
    return render_template(
        "safety/editor.html", form=form, items=checklist.items()
    ), 422 if form.errors else 200


@bp.route("/checklist/items/new", methods=["GET", "POST"])
@roles_required(Role.ORGANISER)
def add_item():
    """Add an item to the end of the list."""
    form = forms.ItemForm()
    if form.validate_on_submit():
        item = checklist.add_item(
            form.label.data,
            form.wording.data or "",
            form.completed_by.data,
            form.required.data,
            form.on_the_day.data,
        )
        flash(f"Added: {item.label}.", "success")
        return redirect(url_for("safety.edit_checklist") + f"#item-{item.id}", 303)
    return render_template("safety/item_form.html", form=form, item=None), (
        422 if form.errors else 200
    )


@bp.route("/checklist/items/<int:item_id>", methods=["GET", "POST"])
@roles_required(Role.ORGANISER)
def edit_item(item_id: int):
    """Reword an item, make it required or optional, or change who completes it."""
    item = service.item_or_404(item_id)
    form = forms.ItemForm(obj=item)
    if request.method == "GET":
        form.completed_by.data = item.completed_by.value
    if form.validate_on_submit():
        checklist.edit_item(
            item,
            ask_again=form.ask_again.data,
            label=form.label.data,
            wording=form.wording.data or "",
            completed_by=form.completed_by.data,
            required=form.required.data,
            on_the_day=form.on_the_day.data,
        )
        flash(f"Saved: {item.label}.", "success")
        return redirect(url_for("safety.edit_checklist") + f"#item-{item.id}", 303)
    return render_template("safety/item_form.html", form=form, item=item), (
        422 if form.errors else 200
    )


@bp.post("/checklist/items/<int:item_id>/move")
@roles_required(Role.ORGANISER)
def move_item(item_id: int):
    """Move an item up or down the list."""
    item = service.item_or_404(item_id)
    checklist.move_item(item, "up" if request.form.get("direction") == "up" else "down")
    return redirect(url_for("safety.edit_checklist") + f"#item-{item.id}", 303)


@bp.post("/checklist/items/<int:item_id>/remove")
@roles_required(Role.ORGANISER)
def remove_item(item_id: int):
    """Stop asking an item (answers and history about it are kept)."""
    item = service.item_or_404(item_id)
    checklist.remove_item(item)
    flash(f"Removed: {item.label}. Answers already given are kept.", "success")
    return redirect(url_for("safety.edit_checklist"), 303)
